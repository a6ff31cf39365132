package clients

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/e2e/internal/mlflowtest"
)

// startMLflow starts `mlflow server` from .venv (mlflowtest.Start).
func startMLflow(t *testing.T) *mlflowtest.Server {
	t.Helper()
	return mlflowtest.Start(t, filepath.Join(filepath.Dir(python(t)), "mlflow"))
}

// oidcClientConf is one [[tool.mlflow-oidc-client.tracking-servers]] entry.
type oidcClientConf struct {
	URI, Issuer, ClientID, ClientSecret, Scope, RedirectURI string
	UseIDToken                                              bool
}

// writePyproject writes the pyproject.toml mlflow-oidc-client reads from
// the working directory.
func writePyproject(t *testing.T, dir string, c oidcClientConf) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[[tool.mlflow-oidc-client.tracking-servers]]\nuri = %q\nissuer = %q\nclient-id = %q\n", c.URI, c.Issuer, c.ClientID)
	if c.ClientSecret != "" {
		fmt.Fprintf(&b, "client-secret = %q\n", c.ClientSecret)
	}
	if c.RedirectURI != "" {
		fmt.Fprintf(&b, "redirect-uri = %q\n", c.RedirectURI)
	}
	fmt.Fprintf(&b, "scope = %q\nuse-id-token = %v\n", c.Scope, c.UseIDToken)
	if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cachedTokens reads the token response mlflow-oidc-client cached under
// home for clientID.
func cachedTokens(t *testing.T, home, clientID string) (access, id string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, ".mlflow", "oidc_client", "cache", clientID+".json"))
	if err != nil {
		t.Fatalf("mlflow-oidc-client's token cache: %v", err)
	}
	var c struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("mlflow-oidc-client's token cache: %v", err)
	}
	return c.AccessToken, c.IDToken
}

// mlflowPluginConfig accepts both token shapes mlflow-oidc-client can send:
// an access token (RFC 9068 typ at+jwt) for the API's resource indicator,
// and an ID token, whose audience is the client's own id.
func mlflowPluginConfig(issuer, fetch, resource, idTokenClient string) string {
	return `{
  "realm": "mlflow",
  "providers": {
    "access-token": {"issuer": "` + issuer + `", "audiences": ["` + resource + `"], "token_types": ["at+jwt"], "fetch": ` + fetch + `},
    "id-token": {"issuer": "` + issuer + `", "audiences": ["` + idTokenClient + `"], "fetch": ` + fetch + `}
  },
  "rules": [
    {"match": {"path": "/health", "methods": ["GET"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["access-token", "id-token"]}}
  ]
}`
}

func TestMLflowWithOIDCClient(t *testing.T) {
	t.Parallel()
	const resource, idClient = "api://mlflow", "mlflow-cli"
	python(t)
	start := time.Now()
	server := startMLflow(t)
	op := startProvider(t, resource)
	tap := mlflowtest.NewTap(t, server.Port, "")
	tapPort := tap.Port
	base := startEnvoy(t, renderKeys(t, mlflowPluginConfig(op.Issuer, op.fetchSettings(), resource, idClient)), tapPort)
	server.Wait(t, 120*time.Second)
	t.Logf("provider, mlflow server and Envoy ready: %v", time.Since(start).Round(time.Millisecond))

	// Every client gets its own HOME: mlflow-oidc-client caches tokens in
	// ~/.mlflow/oidc_client/cache/<client-id>.json, whatever the issuer.
	clientEnv := func(home string, more ...string) []string {
		return append(append(op.pyEnv(), "HOME="+home, "MLFLOW_TRACKING_URI="+base,
			"MLFLOW_HTTP_REQUEST_MAX_RETRIES=0"), more...)
	}
	// Three clients at once: each group's steps depend on each other, the
	// groups do not.
	t.Run("clients", func(t *testing.T) {
		t.Run("client credentials", func(t *testing.T) {
			t.Parallel()
			clientCredentialsFlow(t, base, op, clientEnv)
		})
		t.Run("interactive login", func(t *testing.T) {
			t.Parallel()
			interactiveFlow(t, base, op, clientEnv)
		})
		t.Run("no client configuration", func(t *testing.T) {
			t.Parallel()
			unconfiguredFlow(t, base, clientEnv)
		})
	})
	if n := tap.WithAuthorization.Load(); n != 0 {
		t.Errorf("%d requests reached the MLflow server with an Authorization header; tokengate removes the token", n)
	}
	if tap.API.Load() == 0 {
		t.Error("no API request reached the MLflow server")
	}
}

type envFunc func(home string, more ...string) []string

// clientCredentialsFlow: mlflow-oidc-client with a client secret sends a
// client-credentials access token.
func clientCredentialsFlow(t *testing.T, base string, op *provider, clientEnv envFunc) {
	const resource = "api://mlflow"
	dir, home := t.TempDir(), t.TempDir()
	writePyproject(t, dir, oidcClientConf{URI: base, Issuer: op.Issuer, ClientID: "cc-client",
		ClientSecret: "cc-secret", Scope: "score"})

	t.Run("mlflow experiments search succeeds with the access token", func(t *testing.T) {
		start := time.Now()
		out, err := runPy(t, dir, clientEnv(home), "", "-m", "mlflow", "experiments", "search")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "Default") {
			t.Fatalf("experiments search printed %q, want the Default experiment", out)
		}
		access, _ := cachedTokens(t, home, "cc-client")
		if h, c := jwtParts(t, access); h["typ"] != "at+jwt" || !hasAudience(c["aud"], resource) {
			t.Fatalf("the client's access token has typ %v and aud %v, want at+jwt for %s", h["typ"], c["aud"], resource)
		}
		t.Logf("experiments search: %v", time.Since(start).Round(time.Millisecond))
	})
	t.Run("a run's params and metrics round-trip through the proxy", func(t *testing.T) {
		start := time.Now()
		out, err := runPy(t, dir, clientEnv(home), "", script(t, "mlflow_roundtrip.py"), "through-tokengate")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			RunID   string             `json:"run_id"`
			Params  map[string]string  `json:"params"`
			Metrics map[string]float64 `json:"metrics"`
		}
		// mlflow prints "View run" lines before the script's JSON.
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
			t.Fatalf("mlflow_roundtrip.py printed %q: %v", out, err)
		}
		if got.RunID == "" || got.Params["learning_rate"] != "0.01" || got.Params["depth"] != "6" || got.Metrics["loss"] != 0.25 {
			t.Fatalf("read back %+v", got)
		}
		t.Logf("experiment + run round trip: %v", time.Since(start).Round(time.Millisecond))
	})
}

// interactiveFlow: mlflow-oidc-client without a client secret logs in with
// the authorization-code flow (a stand-in browser) and, with use-id-token,
// sends the ID token.
func interactiveFlow(t *testing.T, base string, op *provider, clientEnv envFunc) {
	const client = "mlflow-cli"
	dir, home := t.TempDir(), t.TempDir()
	// Python's webbrowser runs $BROWSER and waits for it, while the client's
	// redirect server only starts answering after that: the stand-in
	// browser therefore runs in the background.
	browser := filepath.Join(t.TempDir(), "browser.sh")
	browserLog := browser + ".log"
	sh := fmt.Sprintf("#!/bin/sh\n%q %q \"$1\" >>%q 2>&1 &\n", python(t), script(t, "browser.py"), browserLog)
	if err := os.WriteFile(browser, []byte(sh), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := oidcClientConf{URI: base, Issuer: op.Issuer, ClientID: client, Scope: "openid",
		RedirectURI: fmt.Sprintf("http://127.0.0.1:%d/oauth2/callback", freePort(t)), UseIDToken: true}
	writePyproject(t, dir, conf)

	t.Run("with use-id-token the ID token is accepted", func(t *testing.T) {
		start := time.Now()
		out, err := runPy(t, dir, clientEnv(home, "BROWSER="+browser), "", "-m", "mlflow", "experiments", "search")
		if err != nil {
			b, _ := os.ReadFile(browserLog)
			t.Fatalf("%v\nbrowser: %s", err, b)
		}
		if !strings.Contains(out, "Default") {
			t.Fatalf("experiments search printed %q, want the Default experiment", out)
		}
		access, id := cachedTokens(t, home, client)
		if _, c := jwtParts(t, id); !hasAudience(c["aud"], client) {
			t.Fatalf("the ID token's aud is %v, want %s", c["aud"], client)
		}
		if strings.Count(access, ".") == 2 {
			t.Fatal("the interactive client's access token is a JWT; this test needs it opaque to show that the ID token was sent")
		}
		t.Logf("interactive login + experiments search with the ID token: %v", time.Since(start).Round(time.Millisecond))
	})
	t.Run("without use-id-token its opaque access token gets 401", func(t *testing.T) {
		conf.UseIDToken = false
		writePyproject(t, dir, conf)
		_, err := runPy(t, dir, clientEnv(home), "", "-m", "mlflow", "experiments", "search")
		// mlflow shows tokengate's JSON body (the 401 itself is not printed).
		if err == nil || !strings.Contains(err.Error(), "invalid_token") {
			t.Fatalf("want tokengate's invalid_token refusal, got %v", err)
		}
	})
}

// unconfiguredFlow: no pyproject.toml entry for the server.
func unconfiguredFlow(t *testing.T, base string, clientEnv envFunc) {
	t.Run("mlflow-oidc-client stops before sending a request", func(t *testing.T) {
		_, err := runPy(t, t.TempDir(), clientEnv(t.TempDir()), "", "-m", "mlflow", "experiments", "search")
		if err == nil || !strings.Contains(err.Error(), "[MLflow OIDC Plugin]") {
			t.Fatalf("want mlflow-oidc-client's configuration error, got %v", err)
		}
	})
	t.Run("the mlflow CLI without mlflow-oidc-client gets tokengate's 401", func(t *testing.T) {
		_, err := runPy(t, t.TempDir(), clientEnv(t.TempDir()), "", script(t, "mlflow_cli_without_oidc.py"), "experiments", "search")
		if err == nil || !strings.Contains(err.Error(), "a bearer token is required") {
			t.Fatalf("want tokengate's refusal, got %v", err)
		}
		r := do(t, http.MethodPost, base+"/api/2.0/mlflow/experiments/search", "", `{"max_results": 1}`)
		if r.status != http.StatusUnauthorized || r.wwwAuth != `Bearer realm="mlflow"` {
			t.Fatalf("got %d %q, want 401 with a bare Bearer challenge", r.status, r.wwwAuth)
		}
	})
}
