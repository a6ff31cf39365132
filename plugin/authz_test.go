//go:build !wasip1

package main

// The authorization rules (path templates, hosts, roles, claims, any_of and
// presets) through the real module: each outcome must be the one the gate
// decides natively, after the trip through the ABI.

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

func TestPluginAuthorization(t *testing.T) {
	const (
		kcURL = "https://kc.example.com/realms/ml"
		tid   = "0d1e2f30-aaaa-bbbb-cccc-000000000001"
		v2    = "https://login.microsoftonline.com/" + tid + "/v2.0"
		v1    = "https://sts.windows.net/" + tid + "/"
	)
	kc, err := issuer.New(kcURL, issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	entra, err := issuer.New(v2, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	entraV1, err := issuer.New(v1, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	entraV1.Keys = entra.Keys
	th := testhost.New(t, `{
  "realm": "models",
  "providers": {
    "kc": {"preset": "keycloak", "issuer": "`+kcURL+`", "audiences": ["mlflow"], "jwks": `+string(kc.JWKS())+`},
    "entra": {"preset": "entra", "issuer": "`+v2+`", "audiences": ["api://scoring"], "jwks": `+string(entra.JWKS())+`}
  },
  "rules": [
    {"match": {"path_template": "/v2/models/{model}/infer", "methods": ["POST"]}, "requires": {"providers": ["entra"],
      "any_of": [{"roles": ["Scorer.All"]}, {"scopes": ["infer:{model}"]}, {"claims": [{"claim": "models", "contains": "{model}"}]}]}},
    {"match": {"host": "*.mlflow.example.com", "prefix": "/api/2.0/mlflow", "methods": ["GET"]}, "requires": {"providers": ["kc"],
      "any_of": [{"roles": ["mlflow-reader"]}, {"roles": ["mlflow-writer"]}]}},
    {"match": {"host": "*.mlflow.example.com", "prefix": "/api/2.0/mlflow"}, "requires": {"providers": ["kc"], "roles": ["mlflow-writer"],
      "claims": [{"claim": "email_verified", "equals": true}]}},
    {"match": {"regex": "/ajax-api/2\\.0/mlflow/.*"}, "requires": {"providers": ["kc"], "roles": ["mlflow-writer"]}}
  ]
}`)
	kcToken := func(roles []string, claims issuer.Claims) string {
		c := issuer.Claims{"aud": "mlflow", "azp": "mlflow", "typ": "Bearer", "sub": "u1", "scope": "openid profile", "email_verified": true,
			"resource_access": map[string]any{"mlflow": map[string]any{"roles": roles}}}
		for k, v := range claims {
			c[k] = v
		}
		tok, err := kc.Mint(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	entraToken := func(iss *issuer.Issuer, claims issuer.Claims) string {
		c := issuer.Claims{"aud": "api://scoring", "tid": tid, "sub": "s1", "azp": "client"}
		for k, v := range claims {
			c[k] = v
		}
		tok, err := iss.Mint(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	const mlflow = "tracking.mlflow.example.com"
	tests := []struct {
		name, method, path, authority, token string
		status                               int // 0: continued
		www                                  string
	}{
		{"template: the scope for the captured model", "POST", "/v2/models/iris/infer", "", entraToken(entra, issuer.Claims{"scp": "infer:iris"}), 0, ""},
		{"template: the scope for another model", "POST", "/v2/models/wine/infer", "", entraToken(entra, issuer.Claims{"scp": "infer:iris"}), 403,
			`Bearer realm="models", error="insufficient_scope", error_description="the token lacks a required role"`},
		{"template: an app role for every model", "POST", "/v2/models/wine/infer", "", entraToken(entra, issuer.Claims{"roles": []string{"Scorer.All"}}), 0, ""},
		{"template: a model listed in a claim", "POST", "/v2/models/wine/infer", "", entraToken(entra, issuer.Claims{"models": []string{"wine"}}), 0, ""},
		{"preset: an Entra v1 token of the same tenant", "POST", "/v2/models/iris/infer", "", entraToken(entraV1, issuer.Claims{"scp": "infer:iris", "ver": "1.0"}), 0, ""},
		{"preset: an Entra ID token is refused", "POST", "/v2/models/iris/infer", "", entraToken(entra, issuer.Claims{"scp": "infer:iris", "nonce": "n"}), 401,
			`Bearer realm="models", error="invalid_token", error_description="ID tokens are not accepted; send an access token"`},
		{"template: an encoded dot-dot is refused", "POST", "/v2/models/%2e%2e/infer", "", entraToken(entra, issuer.Claims{"roles": []string{"Scorer.All"}}), 400, ""},
		{"roles: a reader reads", "GET", "/api/2.0/mlflow/runs/get", mlflow, kcToken([]string{"mlflow-reader"}, nil), 0, ""},
		{"roles: a writer reads", "GET", "/api/2.0/mlflow/runs/get", mlflow + ":443", kcToken([]string{"mlflow-writer"}, nil), 0, ""},
		{"roles: a reader cannot write", "POST", "/api/2.0/mlflow/runs/create", mlflow, kcToken([]string{"mlflow-reader"}, nil), 403,
			`Bearer realm="models", error="insufficient_scope", error_description="the token lacks a required role"`},
		{"claims: a writer without a verified email cannot write", "POST", "/api/2.0/mlflow/runs/create", mlflow, kcToken([]string{"mlflow-writer"}, issuer.Claims{"email_verified": false}), 403,
			`Bearer realm="models", error="insufficient_scope", error_description="the token's claims do not allow this request"`},
		{"claims: a writer writes", "POST", "/api/2.0/mlflow/runs/create", mlflow, kcToken([]string{"mlflow-writer"}, nil), 0, ""},
		{"preset: a Keycloak ID token is refused", "GET", "/api/2.0/mlflow/runs/get", mlflow, kcToken([]string{"mlflow-reader"}, issuer.Claims{"typ": "ID"}), 401, ""},
		{"host: another host matches no rule", "GET", "/api/2.0/mlflow/runs/get", "mlflow.example.org", kcToken([]string{"mlflow-reader"}, nil), 403, ""},
		{"regex: a writer on the ajax API", "POST", "/ajax-api/2.0/mlflow/runs/create", "", kcToken([]string{"mlflow-writer"}, nil), 0, ""},
		{"regex: a reader on the ajax API", "POST", "/ajax-api/2.0/mlflow/runs/create", "", kcToken([]string{"mlflow-reader"}, nil), 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := testhost.Request{Method: tt.method, Path: tt.path, Authority: tt.authority,
				Headers: [][2]string{{"authorization", "Bearer " + tt.token}}}
			res := th.Do(t, req)
			if tt.status == 0 {
				if !res.Continued {
					t.Fatalf("refused with %d: %s (logs %q)", res.Status, res.Body, res.Logs)
				}
				if upstream(res, "authorization") != "" {
					t.Errorf("the token went upstream")
				}
				return
			}
			if res.Continued || res.Status != tt.status {
				t.Fatalf("continued=%v status %d, want %d; body %s", res.Continued, res.Status, tt.status, res.Body)
			}
			if tt.www != "" && responseHeader(res, "www-authenticate") != tt.www {
				t.Errorf("WWW-Authenticate %q, want %q", responseHeader(res, "www-authenticate"), tt.www)
			}
			if strings.Contains(strings.Join(res.Logs, "\n"), tt.token) {
				t.Errorf("the log holds the token")
			}
		})
	}
}

func TestPluginRefusesBadAuthorizationRules(t *testing.T) {
	tests := []struct{ name, config, log string }{
		{"a capture that is not defined", `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"path_template":"/m/{model}"},"requires":{"scopes":["infer:{name}"]}}]}`,
			"rules[0].requires.scopes[0]: uses {name}, which the rule's match does not capture"},
		{"a claim regex that does not compile", `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/"},"requires":{"claims":[{"claim":"e","regex":"("}]}}]}`,
			"rules[0].requires.claims[0].regex: not a valid RE2 regex"},
		{"an unknown preset", `{"providers":{"a":{"issuer":"x","preset":"ping"}}}`, "providers.a.preset: must be one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := strings.Join(testhost.Refused(t, tt.config), "\n")
			if !strings.Contains(logs, tt.log) {
				t.Fatalf("logs %q do not name the problem %q", logs, tt.log)
			}
		})
	}
}
