package keycloak

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/guidetest"
	"github.com/tokengate/tokengate/internal/keycloaktest"
)

// TestGuideMLflowRolesWithKeycloak runs docs/guide-mlflow-roles.md against a
// real Keycloak set up as its section 1 says: a realm ml, the client mlflow
// as the tokens' audience, the realm roles mlflow-reader and mlflow-writer
// (and the client role mlflow-writer of mlflow) granted to service accounts.
// The guide's configuration runs as printed, with the issuer of this
// Keycloak in place of https://kc.example.com/realms/ml, behind Envoy with
// jwksfetch finding the keys by discovery; Keycloak's own tokens must get
// the answers the guide promises.
func TestGuideMLflowRolesWithKeycloak(t *testing.T) {
	kc := keycloaktest.Start(t)
	const realm = "ml"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(kc.CreateRealm(realm))
	for _, role := range []string{"mlflow-reader", "mlflow-writer"} {
		must(kc.CreateRealmRole(realm, role))
	}
	mlflow, err := kc.CreateClient(realm, "mlflow", keycloaktest.ClientOptions{})
	must(err)
	must(kc.CreateClientRole(realm, mlflow.ID, "mlflow-writer"))
	client := func(id string, audiences []string, grant func(keycloaktest.Client) error) string {
		t.Helper()
		c, err := kc.CreateClient(realm, id, keycloaktest.ClientOptions{Audiences: audiences})
		must(err)
		if grant != nil {
			must(grant(c))
		}
		tok, err := kc.Token(kc.Issuer(realm), c.ClientID, c.Secret)
		must(err)
		return tok
	}
	realmRole := func(role string) func(keycloaktest.Client) error {
		return func(c keycloaktest.Client) error { return kc.AssignRealmRole(realm, c, role) }
	}
	var (
		mlflowAud = []string{"mlflow"}
		reader    = client("notebooks", mlflowAud, realmRole("mlflow-reader"))
		writer    = client("training", mlflowAud, realmRole("mlflow-writer"))
		ci        = client("ci", mlflowAud, func(c keycloaktest.Client) error {
			return kc.AssignClientRole(realm, c, mlflow.ID, "mlflow-writer")
		})
		nobody    = client("dashboards", mlflowAud, nil)
		elsewhere = client("reporting", nil, realmRole("mlflow-writer"))
	)

	cfg := guidetest.Config(t, "guide-mlflow-roles.md")
	const guideIssuer = "https://kc.example.com/realms/ml"
	if n := strings.Count(cfg, guideIssuer); n != 1 {
		t.Fatalf("the guide's configuration names %s %d times, want once", guideIssuer, n)
	}
	cfg = strings.Replace(cfg, guideIssuer, kc.Issuer(realm), 1)

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "mlflow saw "+r.Method+" "+r.URL.Path)
	}))
	t.Cleanup(upstream.Close)
	f := startEnvoy(t, cfg, upstream.Listener.Addr().(*net.TCPAddr).Port)

	const roleMissing = `Bearer realm="mlflow", error="insufficient_scope", error_description="the token lacks a required role"`
	tests := []struct {
		name, method, path, token string
		status                    int
		www                       string // a prefix of WWW-Authenticate; "" when it must be absent
	}{
		{"the health check needs no token", "GET", "/health", "", 200, ""},
		{"a reader reads an experiment", "GET", "/api/2.0/mlflow/experiments/get?experiment_id=1", reader, 200, ""},
		{"a reader searches runs with POST", "POST", "/api/2.0/mlflow/runs/search", reader, 200, ""},
		{"a reader cannot create a run, answered as the guide prints", "POST", "/api/2.0/mlflow/runs/create", reader, 403, roleMissing},
		{"a writer creates a run", "POST", "/api/2.0/mlflow/runs/create", writer, 200, ""},
		{"a writer reads", "GET", "/api/2.0/mlflow/runs/get?run_id=r", writer, 200, ""},
		{"the client role mlflow-writer of mlflow writes", "POST", "/api/2.0/mlflow/runs/log-batch", ci, 200, ""},
		{"a client without a role reads nothing", "GET", "/api/2.0/mlflow/experiments/get", nobody, 403, roleMissing},
		{"a writer's token without the mlflow audience is refused", "POST", "/api/2.0/mlflow/runs/create", elsewhere, 401,
			`Bearer realm="mlflow", error="invalid_token"`},
		{"no token gets 401", "GET", "/api/2.0/mlflow/experiments/get", "", 401, `Bearer realm="mlflow"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := f.send(tt.method, tt.path, tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if a.status != tt.status {
				t.Fatalf("%s %s: status %d, want %d (body %q)", tt.method, tt.path, a.status, tt.status, a.body)
			}
			if tt.status == 200 && !strings.HasPrefix(a.body, "mlflow saw "+tt.method) {
				t.Errorf("answered %q, not by the upstream", a.body)
			}
			got := a.header.Get("WWW-Authenticate")
			if tt.www == "" && got != "" || !strings.HasPrefix(got, tt.www) || tt.www == roleMissing && got != roleMissing {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.www)
			}
		})
	}
}

// send sends method path with token as a Bearer token (none if empty).
func (f *front) send(method, path, token string) (answer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, f.url+path, nil)
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %s %s: %w", f.name, method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return answer{}, fmt.Errorf("%s: %s %s: reading the body: %w", f.name, method, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}
