package e2e

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/guidetest"
	"github.com/tokengate/tokengate/internal/issuer"
)

// The guides' configurations run as they are printed (internal/guidetest
// reads the block each guide marks), with the key set added that jwksfetch
// fills in in a deployment.

// guideRequest is one request of a guide's promise and its answer.
type guideRequest struct {
	name, method, path, token string
	headers                   [][2]string
	status                    int
	www                       string // the exact WWW-Authenticate, or "prefix:" and its start; "" when it must be absent
	description               string // a part of the body's error_description, when refused
}

// runGuide sends every request through p and checks that only the allowed
// ones reach the upstream, with the answer the guide promises.
func runGuide(t *testing.T, p *proxy, hits *atomic.Int64, reqs []guideRequest) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for _, r := range reqs {
		t.Run(r.name, func(t *testing.T) {
			req, err := http.NewRequest(r.method, p.base, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = r.path // sent as it is, dot segments and escapes included
			if r.token != "" {
				req.Header.Set("Authorization", "Bearer "+r.token)
			}
			for _, h := range r.headers {
				req.Header.Add(h[0], h[1])
			}
			before := hits.Load()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", r.method, r.path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != r.status {
				t.Fatalf("%s %s: status %d, want %d (body %q)", r.method, r.path, resp.StatusCode, r.status, body)
			}
			if reached := hits.Load() > before; reached != (r.status == 200) {
				t.Errorf("upstream reached: %v, want %v", reached, r.status == 200)
			}
			got := resp.Header.Get("WWW-Authenticate")
			if want, ok := strings.CutPrefix(r.www, "prefix:"); ok && !strings.HasPrefix(got, want) || !ok && got != r.www {
				t.Errorf("WWW-Authenticate %q, want %q", got, r.www)
			}
			if r.description != "" && !strings.Contains(string(body), r.description) {
				t.Errorf("body %q does not say %q", body, r.description)
			}
		})
	}
}

// TestGuideMLflowRoles checks docs/guide-mlflow-roles.md: with its
// configuration, Keycloak tokens with the realm or client role mlflow-reader
// read MLflow (GET, HEAD and the POST searches) and nothing else,
// mlflow-writer does everything, and the guide's refusals come out as it
// prints them.
func TestGuideMLflowRoles(t *testing.T) {
	kc, err := issuer.New("https://kc.example.com/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	// Keycloak's access-token shape, as the guide shows it.
	mint := func(realmRoles, clientRoles []string, over issuer.Claims, opts ...issuer.MintOption) string {
		t.Helper()
		c := issuer.Claims{"aud": []string{"mlflow", "account"}, "typ": "Bearer", "azp": "mlflow-cli", "sub": "u-1",
			"scope":           "openid profile email",
			"realm_access":    map[string]any{"roles": append([]string{"default-roles-ml", "offline_access"}, realmRoles...)},
			"resource_access": map[string]any{"account": map[string]any{"roles": []string{"manage-account"}}}}
		if clientRoles != nil {
			c["resource_access"].(map[string]any)["mlflow"] = map[string]any{"roles": clientRoles}
		}
		for k, v := range over {
			c[k] = v
		}
		tok, err := kc.Mint(c, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	reader := mint([]string{"mlflow-reader"}, nil, nil)
	writer := mint([]string{"mlflow-writer"}, nil, nil)
	clientWriter := mint(nil, []string{"mlflow-writer"}, nil)
	nobody := mint(nil, nil, nil)
	const (
		roleMissing = `Bearer realm="mlflow", error="insufficient_scope", error_description="the token lacks a required role"`
		invalid     = `prefix:Bearer realm="mlflow", error="invalid_token", error_description=`
	)
	cfg := guidetest.WithKeys(t, guidetest.Config(t, "guide-mlflow-roles.md"), kc.JWKS())
	up, hits := upstream(t)
	p := startEnvoy(t, cfg, up, nil)
	reqs := []guideRequest{
		{name: "the health check needs no token", method: "GET", path: "/health", status: 200},
		{name: "a reader gets an experiment", method: "GET", path: "/api/2.0/mlflow/experiments/get?experiment_id=1", token: reader, status: 200},
		{name: "a reader downloads an artifact", method: "GET", path: "/api/2.0/mlflow-artifacts/artifacts/1/model.pkl", token: reader, status: 200},
		{name: "HEAD counts as GET", method: "HEAD", path: "/api/2.0/mlflow/runs/get?run_id=r", token: reader, status: 200},
		{name: "a reader searches runs with POST", method: "POST", path: "/api/2.0/mlflow/runs/search", token: reader, status: 200},
		{name: "a reader searches experiments from the web UI", method: "POST", path: "/ajax-api/2.0/mlflow/experiments/search", token: reader, status: 200},
		{name: "a reader searches registered models", method: "POST", path: "/api/2.0/mlflow/registered-models/search", token: reader, status: 200},
		{name: "a reader cannot create a run, and gets the guide's answer", method: "POST", path: "/api/2.0/mlflow/runs/create", token: reader,
			status: 403, www: roleMissing, description: "the token lacks a required role"},
		{name: "a reader cannot upload an artifact", method: "PUT", path: "/api/2.0/mlflow-artifacts/artifacts/1/model.pkl", token: reader,
			status: 403, www: roleMissing},
		{name: "a reader cannot delete an experiment", method: "DELETE", path: "/api/2.0/mlflow/experiments/delete", token: reader,
			status: 403, www: roleMissing},
		{name: "a reader cannot turn a GET into a write with a method override", method: "GET", path: "/api/2.0/mlflow/runs/create",
			token: reader, headers: [][2]string{{"X-HTTP-Method-Override", "POST"}}, status: 400,
			www: `Bearer realm="mlflow", error="invalid_request", error_description="method override headers are not accepted"`},
		{name: "a writer creates a run", method: "POST", path: "/api/2.0/mlflow/runs/create", token: writer, status: 200},
		{name: "a writer logs a batch", method: "POST", path: "/api/2.0/mlflow/runs/log-batch", token: writer, status: 200},
		{name: "a writer reads too", method: "GET", path: "/api/2.0/mlflow/experiments/get?experiment_id=1", token: writer, status: 200},
		{name: "a writer uploads an artifact", method: "PUT", path: "/api/2.0/mlflow-artifacts/artifacts/1/model.pkl", token: writer, status: 200},
		{name: "the client role mlflow-writer under resource_access.mlflow works like the realm role", method: "POST",
			path: "/api/2.0/mlflow/runs/create", token: clientWriter, status: 200},
		{name: "the client role of another client does not count", method: "POST", path: "/api/2.0/mlflow/runs/create",
			token:  mint(nil, nil, issuer.Claims{"resource_access": map[string]any{"other": map[string]any{"roles": []string{"mlflow-writer"}}}}),
			status: 403, www: roleMissing},
		{name: "a token without either role cannot read", method: "GET", path: "/api/2.0/mlflow/experiments/get", token: nobody,
			status: 403, www: roleMissing},
		{name: "no token gets 401", method: "GET", path: "/api/2.0/mlflow/experiments/get", status: 401, www: `Bearer realm="mlflow"`},
		{name: "Keycloak's ID token is refused even with the role", method: "GET", path: "/api/2.0/mlflow/experiments/get",
			token:  mint([]string{"mlflow-writer"}, nil, issuer.Claims{"typ": "ID", "aud": "mlflow-cli", "nonce": "n"}),
			status: 401, www: invalid, description: "ID tokens are not accepted"},
		{name: "a token without the mlflow audience is refused", method: "GET", path: "/api/2.0/mlflow/experiments/get",
			token: mint([]string{"mlflow-writer"}, nil, issuer.Claims{"aud": "account"}), status: 401, www: invalid,
			description: "audience"},
		{name: "a token that lives longer than an hour is refused", method: "GET", path: "/api/2.0/mlflow/experiments/get",
			token: mint([]string{"mlflow-writer"}, nil, nil, issuer.WithTTL(2*time.Hour)), status: 401, www: invalid},
	}
	runGuide(t, p, hits, reqs)
}

// TestGuidePerModelAccess checks docs/guide-per-model-access.md: with its
// configuration, a caller scores exactly the models its token grants, by the
// scope infer:<model>, the claim models or the role model-admin, and the
// paths that could resolve to another model never reach the server.
func TestGuidePerModelAccess(t *testing.T) {
	kc, err := issuer.New("https://kc.example.com/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	mint := func(over issuer.Claims) string {
		t.Helper()
		c := issuer.Claims{"aud": "models", "typ": "Bearer", "azp": "scorer", "sub": "svc-1", "scope": "profile"}
		for k, v := range over {
			c[k] = v
		}
		tok, err := kc.Mint(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	iris := mint(issuer.Claims{"scope": "profile infer:iris"})
	listed := mint(issuer.Claims{"models": []string{"iris", "wine"}})
	admin := mint(issuer.Claims{"realm_access": map[string]any{"roles": []string{"model-admin"}}})
	plain := mint(nil)
	const wine = `Bearer realm="models", error="insufficient_scope", scope="infer:wine"`
	cfg := guidetest.WithKeys(t, guidetest.Config(t, "guide-per-model-access.md"), kc.JWKS())
	up, hits := upstream(t)
	p := startEnvoy(t, cfg, up, nil)
	runGuide(t, p, hits, []guideRequest{
		{name: "the health routes need no token", method: "GET", path: "/v2/health/ready", status: 200},
		{name: "server metadata needs no token", method: "GET", path: "/v2", status: 200},
		{name: "model readiness needs no token", method: "GET", path: "/v2/models/iris/ready", status: 200},
		{name: "model metadata needs a valid token", method: "GET", path: "/v2/models/iris", status: 401, www: `Bearer realm="models"`},
		{name: "model metadata with any valid token", method: "GET", path: "/v2/models/wine", token: plain, status: 200},
		{name: "the scope infer:iris scores iris", method: "POST", path: "/v2/models/iris/infer", token: iris, status: 200},
		{name: "the scope infer:iris does not score wine, and the refusal names the scope needed", method: "POST",
			path: "/v2/models/wine/infer", token: iris, status: 403, www: wine},
		{name: "the scope infer:iris is no prefix of iris2", method: "POST", path: "/v2/models/iris2/infer", token: iris, status: 403,
			www: `Bearer realm="models", error="insufficient_scope", scope="infer:iris2"`},
		{name: "the scope works on a versioned path", method: "POST", path: "/v2/models/iris/versions/3/infer", token: iris, status: 200},
		{name: "the claim models lists wine", method: "POST", path: "/v2/models/wine/infer", token: listed, status: 200},
		{name: "the claim models, versioned", method: "POST", path: "/v2/models/wine/versions/1/infer", token: listed, status: 200},
		{name: "the claim models does not list rose", method: "POST", path: "/v2/models/rose/infer", token: listed, status: 403,
			www: `Bearer realm="models", error="insufficient_scope", scope="infer:rose"`},
		{name: "the role model-admin scores any model", method: "POST", path: "/v2/models/rose/infer", token: admin, status: 200},
		{name: "the role model-admin is not an alternative on versioned paths", method: "POST", path: "/v2/models/rose/versions/1/infer",
			token: admin, status: 403, www: `Bearer realm="models", error="insufficient_scope", scope="infer:rose"`},
		{name: "a token with no grant scores nothing", method: "POST", path: "/v2/models/wine/infer", token: plain, status: 403, www: wine},
		{name: "GET on infer matches no rule and is refused", method: "GET", path: "/v2/models/iris/infer", token: iris, status: 403},
		{name: "an encoded dot segment never reaches the server", method: "POST", path: "/v2/models/%2e%2e/infer", token: iris, status: 400,
			www: "prefix:" + `Bearer realm="models", error="invalid_request"`},
		{name: "iris/../wine never reaches wine with an iris token", method: "POST", path: "/v2/models/iris/../wine/infer", token: iris,
			status: 400, www: "prefix:" + `Bearer realm="models", error="invalid_request"`},
		{name: "no token gets 401", method: "POST", path: "/v2/models/iris/infer", status: 401, www: `Bearer realm="models"`},
		{name: "a Keycloak ID token is refused", method: "POST", path: "/v2/models/iris/infer",
			token: mint(issuer.Claims{"typ": "ID", "scope": "infer:iris"}), status: 401, description: "ID tokens are not accepted",
			www: "prefix:" + `Bearer realm="models", error="invalid_token"`},
	})
}
