// Package browser signs a real browser in through tokengate: headless
// Chromium, driven with chromedp, opens the MLflow UI behind Envoy 1.40 and
// behind tokengate-proxy, is sent to Keycloak's real login page, signs in,
// lands back on the UI, sees the experiments list, creates an experiment
// from the UI, survives the refresh of an expired access token, and signs
// out. The configuration is the one docs/guide-mlflow-ui.md prints.
//
// Beside the browser, a plain HTTP client replays what an attacker could:
// a tampered session cookie, a wrong state, the callback of a finished
// sign-in (a replayed code, refused by Keycloak itself) and the session
// cookie of a browser that signed out. The same deployment serves a Bearer
// token from the client-credentials grant, as the mlflow-oidc-client
// plugin sends.
//
// The test needs Chromium (/usr/bin/chromium, or TOKENGATE_CHROMIUM), Envoy
// (TOKENGATE_ENVOY), Keycloak (internal/keycloaktest) and mlflow in .venv;
// without one it is skipped, or fails under TOKENGATE_REQUIRE_E2E=1. The
// screenshot of the signed-in page is written to the test's artifact
// directory (go test -artifacts keeps it, under -outputdir) and its path
// logged; `make browser-test` runs it so, keeping it under
// build/out/artifacts:
//
//	TOKENGATE_ENVOY=$PWD/.venv/bin/envoy go test -count=1 -v -artifacts -outputdir $PWD/build/out/artifacts ./e2e/browser/
package browser
