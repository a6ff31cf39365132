package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

const idpURL = "https://kc.example.com/realms/ml"

// setup writes a Keycloak-shaped configuration and a token file into a
// fresh directory and returns their paths. The token grants infer:iris and
// the realm role mlflow-reader.
func setup(config string) (dir, cfg, tokenFile string, idp *issuer.Issuer) {
	idp, err := issuer.New(idpURL, issuer.RS256)
	if err != nil {
		panic(err)
	}
	dir, err = os.MkdirTemp("", "tokengate-cmd-")
	if err != nil {
		panic(err)
	}
	cfg = filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(config, "JWKS", string(idp.JWKS()))), 0o600); err != nil {
		panic(err)
	}
	tok, err := idp.Mint(issuer.Claims{"aud": "models", "sub": "alice", "typ": "Bearer", "scope": "openid infer:iris",
		"realm_access": map[string]any{"roles": []string{"mlflow-reader"}}})
	if err != nil {
		panic(err)
	}
	tokenFile = filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(tok+"\n"), 0o600); err != nil {
		panic(err)
	}
	return dir, cfg, tokenFile, idp
}

const modelsConfig = `{"realm": "models",
  "providers": {"kc": {"preset": "keycloak", "issuer": "` + idpURL + `", "audiences": ["models"], "max_lifetime_seconds": 3600, "jwks": JWKS}},
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"path_template": "/v2/models/{model}/infer", "methods": ["POST"]}, "requires": {"scopes": ["infer:{model}"]}},
    {"match": {"prefix": "/api/2.0/mlflow", "methods": ["GET"]}, "requires": {"any_of": [{"roles": ["mlflow-reader"]}, {"roles": ["mlflow-writer"]}]}},
    {"match": {"prefix": "/api/2.0/mlflow"}, "requires": {"roles": ["mlflow-writer"]}}
  ]}`

func Example_explainAllowed() {
	dir, cfg, tok, _ := setup(modelsConfig)
	defer os.RemoveAll(dir)
	code := run([]string{"explain", "--config", cfg, "--token-file", tok, "--request", "POST /v2/models/iris/infer"}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// request:  POST /v2/models/iris/infer
	// rule:     rules[1] {"path_template":"/v2/models/{model}/infer","methods":["POST"]}
	// capture:  model = "iris"
	// check:    ok   credential found in header authorization ("Bearer")
	// check:    ok   token verified by provider "kc": signature, issuer, audience, type, time
	// check:    ok   scope "infer:iris"
	// decision: allow (provider "kc")
	// exit 0
}

func Example_explainFilterState() {
	dir, cfg, tok, _ := setup(strings.Replace(modelsConfig, `"realm"`, `"envoy_filter_state": {"claims": ["tenant"]}, "realm"`, 1))
	defer os.RemoveAll(dir)
	code := run([]string{"explain", "--config", cfg, "--token-file", tok, "--request", "POST /v2/models/iris/infer"}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// request:  POST /v2/models/iris/infer
	// rule:     rules[1] {"path_template":"/v2/models/{model}/infer","methods":["POST"]}
	// capture:  model = "iris"
	// check:    ok   credential found in header authorization ("Bearer")
	// check:    ok   token verified by provider "kc": signature, issuer, audience, type, time
	// check:    ok   scope "infer:iris"
	// decision: allow (provider "kc")
	// envoy:    filter state wasm.tokengate.provider
	// envoy:    filter state wasm.tokengate.sub
	// envoy:    filter state wasm.tokengate.scope
	// exit 0
}

func Example_explainRefused() {
	dir, cfg, tok, _ := setup(modelsConfig)
	defer os.RemoveAll(dir)
	code := run([]string{"explain", "--config", cfg, "--token-file", tok, "--request", "POST /api/2.0/mlflow/runs/create"}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// request:  POST /api/2.0/mlflow/runs/create
	// rule:     rules[3] {"prefix":"/api/2.0/mlflow"}
	// check:    ok   credential found in header authorization ("Bearer")
	// check:    ok   token verified by provider "kc": signature, issuer, audience, type, time
	// check:    FAIL role "mlflow-writer" in realm_access.roles, resource_access.models.roles
	// decision: deny 403: the token lacks a required role [role_missing]
	//           www-authenticate: Bearer realm="models", error="insufficient_scope", error_description="the token lacks a required role"
	// exit 1
}

func Example_explainAlternatives() {
	dir, cfg, tok, _ := setup(modelsConfig)
	defer os.RemoveAll(dir)
	code := run([]string{"explain", "--config", cfg, "--token-file", tok, "--request", "GET /api/2.0/mlflow/experiments/list?max_results=5"}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// request:  GET /api/2.0/mlflow/experiments/list
	// rule:     rules[2] {"prefix":"/api/2.0/mlflow","methods":["GET"]}
	// check:    ok   credential found in header authorization ("Bearer")
	// check:    ok   token verified by provider "kc": signature, issuer, audience, type, time
	// check:    ok   any_of[0]
	// check:    ok     role "mlflow-reader" in realm_access.roles, resource_access.models.roles
	// decision: allow (provider "kc")
	// exit 0
}

func Example_lint() {
	dir, cfg, _, _ := setup(`{
  "providers": {"kc": {"issuer": "` + idpURL + `", "jwks": JWKS, "role_claims": ["realm_access.roles"]}},
  "rules": [
    {"match": {"prefix": "/api"}, "requires": {}},
    {"match": {"prefix": "/api/admin"}, "requires": {"roles": ["admin"]}},
    {"match": {"prefix": "/"}},
    {"match": {"prefix": "/metrics"}, "requires": {}}
  ]}`)
	defer os.RemoveAll(dir)
	code := run([]string{"lint", "--config", cfg}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// providers.kc.audiences: not set: tokens the issuer mints for any other application are accepted here; list this API's audience (the client id or App ID URI)
	// providers.kc: ID tokens are accepted as access tokens: set "token_types": ["at+jwt"] if the issuer marks access tokens (RFC 9068), or a "preset", or "refuse_id_tokens": true
	// providers.kc.max_lifetime_seconds: not set: a token with a far exp (leaked, or minted by mistake) is accepted until then; set it to the issuer's access-token lifetime
	// rules[1]: shadowed by rules[0] {"prefix":"/api"}, which matches every request this rule matches and is tried first; move this rule above it or narrow the earlier one
	// rules[3]: unreachable: rules[2] {"prefix":"/"} matches every request first; move this rule above it
	// 5 finding(s)
	// exit 1
}

func Example_lintRefusal() {
	dir, cfg, _, _ := setup(`{"providers": {"kc": {"issuer": "` + idpURL + `"}},
  "rules": [{"match": {"prefix": "/v2/models"}, "requires": {"scopes": ["infer:{model}"]}}]}`)
	defer os.RemoveAll(dir)
	code := run([]string{"lint", "--config", cfg}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit", code)
	// Output:
	// tokengate: configuration refused: rules[0].requires.scopes[0]: uses {model}, which the rule's match does not capture (it captures nothing; use match.path_template)
	// exit 1
}

// TestExitStatus is the contract for scripts: 0 allowed or clean, 1 refused
// or findings, 2 for usage errors; and the token is never printed.
func TestExitStatus(t *testing.T) {
	dir, cfg, tokFile, _ := setup(modelsConfig)
	defer os.RemoveAll(dir)
	tokBytes, _ := os.ReadFile(tokFile)
	tok := strings.TrimSpace(string(tokBytes))
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  int
	}{
		{"no command", nil, "", 2},
		{"an unknown command", []string{"judge"}, "", 2},
		{"explain without --config", []string{"explain", "--request", "GET /"}, "", 2},
		{"explain without --request", []string{"explain", "--config", cfg}, "", 2},
		{"a request without a path", []string{"explain", "--config", cfg, "--request", "GET"}, "", 2},
		{"a missing config file", []string{"lint", "--config", filepath.Join(dir, "nope.json")}, "", 2},
		{"an unknown flag", []string{"lint", "--config", cfg, "--strict"}, "", 2},
		{"both --token and --token-file", []string{"explain", "--config", cfg, "--token", tok, "--token-file", tokFile, "--request", "GET /healthz"}, "", 2},
		{"a bad --now", []string{"explain", "--config", cfg, "--request", "GET /healthz", "--now", "yesterday"}, "", 2},
		{"a bad --header", []string{"explain", "--config", cfg, "--request", "GET /healthz", "--header", "novalue"}, "", 2},
		{"a public path", []string{"explain", "--config", cfg, "--request", "GET /healthz"}, "", 0},
		{"a token on the command line", []string{"explain", "--config", cfg, "--token", tok, "--request", "POST /v2/models/iris/infer"}, "", 0},
		{"a token on standard input", []string{"explain", "--config", cfg, "--token-file", "-", "--request", "POST /v2/models/iris/infer"}, tok + "\n", 0},
		{"a scope for another model", []string{"explain", "--config", cfg, "--token", tok, "--request", "POST /v2/models/wine/infer"}, "", 1},
		{"no token", []string{"explain", "--config", cfg, "--request", "POST /v2/models/iris/infer"}, "", 1},
		{"an expired token at --now", []string{"explain", "--config", cfg, "--token", tok, "--request", "POST /v2/models/iris/infer", "--now", "2099-01-01T00:00:00Z"}, "", 1},
		{"a path no rule matches", []string{"explain", "--config", cfg, "--token", tok, "--request", "GET /other"}, "", 1},
		{"a clean configuration", []string{"lint", "--config", cfg}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if got := run(tt.args, strings.NewReader(tt.stdin), &out, &out); got != tt.want {
				t.Fatalf("exit %d, want %d; output:\n%s", got, tt.want, out.String())
			}
			if strings.Contains(out.String(), tok) || strings.Contains(out.String(), tok[strings.LastIndexByte(tok, '.')+1:]) {
				t.Fatalf("the output holds the token:\n%s", out.String())
			}
		})
	}
}
