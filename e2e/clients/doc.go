// Package clients runs real client libraries through Envoy and tokengate,
// with a real OpenID provider (the npm oidc-provider package, op/op.mjs)
// issuing the tokens on loopback and `jwksfetch --once` rendering its keys
// into the plugin configuration, as the guides in docs/ tell operators to:
//
//   - model scoring: h2o_authn's TokenProvider (refresh-token grant) and
//     httpx against a small scoring upstream, the 401s of a missing, expired
//     or wrong-audience token, and a hashed-passphrase route;
//   - MLflow: a real `mlflow server` with mlflow-oidc-client configured in a
//     pyproject.toml, with the client-credentials access token and with an
//     interactive login's ID token (use-id-token), and the failures without
//     the client's configuration or without the plugin.
//
// It needs Envoy (TOKENGATE_ENVOY), the plugin, Node 20 with op/node_modules
// installed, and the Python environment of requirements-e2e.txt in .venv:
//
//	make e2e-clients-test
//
// which is
//
//	make wasm envoy e2e-clients
//	TOKENGATE_ENVOY=$PWD/.venv/bin/envoy TOKENGATE_WASM=$PWD/build/out/tokengate.wasm \
//	    TOKENGATE_REQUIRE_E2E=1 go test -count=1 -v ./e2e/clients/
//
// Without TOKENGATE_ENVOY the tests skip; with TOKENGATE_REQUIRE_E2E=1 a
// missing Envoy, Node or Python environment is a failure instead.
package clients
