package gate

import (
	"crypto"
	"strconv"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

// BenchmarkDecide measures one request per algorithm: "cold" verifies the
// signature every time (cache disabled), "cached" is a client reusing its
// token.
func BenchmarkDecide(b *testing.B) {
	f := fx(b)
	for _, mode := range []struct {
		name string
		size int
	}{{"cold", 0}, {"cached", 1024}} {
		g := compile(b, `{"cache_size":`+strconv.Itoa(mode.size)+`,"providers":{"corp":{"issuer":"`+corpURL+`","audiences":["`+aud+`"],"jwks":`+string(f.corp.JWKS())+`}}}`)
		for _, kid := range []string{"RS256-1", "ES256-1", "PS256-1", "EdDSA-1"} {
			req := get("/v1/score", bearer(mint(b, f.corp, nil, issuer.WithKey(kid), issuer.WithTTL(time.Hour)))...)
			b.Run(mode.name+"/"+kid[:len(kid)-2], func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if d := g.Decide(req, time.Now()); !d.Allow {
						b.Fatal(d.Reason)
					}
				}
			})
		}
	}
	g := compile(b, standardConfig(b))
	b.Run("public", func(b *testing.B) {
		req := get("/healthz")
		b.ReportAllocs()
		for b.Loop() {
			g.Decide(req, time.Now())
		}
	})
	b.Run("missing", func(b *testing.B) {
		req := get("/v1/score")
		b.ReportAllocs()
		for b.Loop() {
			g.Decide(req, time.Now())
		}
	})
}

// BenchmarkDecideNewTokens is the gate's own cost of a token it has not
// seen, without the signature check: 2,000 tokens round-robin through a
// 100-entry cache (as `make bench`'s cold scenario), and a Verifier that
// accepts every signature at once, as if the host had checked it. What is
// left is decoding, strict JSON, the claim checks and the cache insertion.
func BenchmarkDecideNewTokens(b *testing.B) {
	f := fx(b)
	g := compile(b, `{"cache_size":100,"providers":{"corp":{"issuer":"`+corpURL+`","audiences":["`+aud+`"],"jwks":`+string(f.corp.JWKS())+`,
    "claim_to_headers":[{"claim":"sub","header":"x-user"}]}}}`,
		WithVerifier(func(string, crypto.PublicKey, string, []byte) (bool, bool) { return true, true }))
	reqs := make([]*Request, 2000)
	for i := range reqs {
		reqs[i] = get("/v1/score", bearer(mint(b, f.corp, issuer.Claims{"sub": "user-" + strconv.Itoa(i), "jti": strconv.Itoa(i)},
			issuer.WithKey("RS256-1"), issuer.WithTTL(time.Hour)))...)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if d := g.Decide(reqs[i%len(reqs)], time.Now()); !d.Allow || d.Cached {
			b.Fatalf("allow %v, cached %v: %s", d.Allow, d.Cached, d.Reason)
		}
		i++
	}
}

// BenchmarkDecideRequirements compares a cached request on a scope-only rule
// with cached requests on rules that match a path template and check
// captures, roles and claims: the requirements must cost no allocation and
// little time beside the scope check.
func BenchmarkDecideRequirements(b *testing.B) {
	f := fx(b)
	g := compile(b, `{"providers":{"corp":{"issuer":"`+corpURL+`","audiences":["`+aud+`"],"jwks":`+string(f.corp.JWKS())+`,
    "role_claims":["realm_access.roles","resource_access.mlflow.roles"]}},
  "rules":[
    {"match":{"prefix":"/v1/score"},"requires":{"scopes":["score"]}},
    {"match":{"prefix":"/v1/tenant"},"requires":{"claims":[{"claim":"tenant","equals":"ml"}]}},
    {"match":{"path_template":"/v2/models/{model}/infer"},"requires":{"scopes":["infer:{model}"],"claims":[{"claim":"models","contains":"{model}"}]}},
    {"match":{"prefix":"/api/2.0/mlflow"},"requires":{"roles":["mlflow-writer"],"claims":[{"claim":"tenant","equals":"ml"},{"claim":"email","regex":"[^@]+@example\\.com"}]}},
    {"match":{"prefix":"/nested"},"requires":{"any_of":[{"roles":["admin"]},{"all_of":[{"roles":["mlflow-writer"]},{"claims":[{"claim":"tenant","prefix":"m"}]}]}]}}
  ]}`)
	tok := mint(b, f.corp, issuer.Claims{"scope": "score infer:iris", "models": []string{"wine", "iris"}, "tenant": "ml", "email": "ann@example.com",
		"realm_access":    map[string]any{"roles": []string{"offline_access", "reader"}},
		"resource_access": map[string]any{"mlflow": map[string]any{"roles": []string{"mlflow-writer"}}}}, issuer.WithTTL(time.Hour))
	for _, bc := range []struct{ name, path string }{
		{"cached/scope-only", "/v1/score"},
		{"cached/claim-equals", "/v1/tenant"},
		{"cached/template-scope-claim", "/v2/models/iris/infer"},
		{"cached/roles-claims-regex", "/api/2.0/mlflow/runs/create"},
		{"cached/any_of-all_of", "/nested"},
	} {
		req := get(bc.path, bearer(tok)...)
		if d := g.Decide(req, time.Now()); !d.Allow {
			b.Fatalf("%s: %s", bc.name, d.Reason)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d := g.Decide(req, time.Now()); !d.Allow {
					b.Fatal(d.Reason)
				}
			}
		})
	}
}
