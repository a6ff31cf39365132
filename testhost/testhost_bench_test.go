package testhost_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

// BenchmarkPluginMiddleware measures one request through host.Middleware
// running the real plugin: a valid token (the same one every time, so a
// plugin that caches verified tokens may answer from its cache), a request
// without a token, and an open path.
func BenchmarkPluginMiddleware(b *testing.B) {
	for _, alg := range []issuer.Algorithm{issuer.ES256, issuer.RS256} {
		iss, err := issuer.New("https://idp.example.com", alg)
		if err != nil {
			b.Fatal(err)
		}
		tok, err := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api://scoring", "scope": "score"}, issuer.WithTTL(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example.com","audiences":["api://scoring"],"jwks":%s}},`+
			`"rules":[{"match":{"prefix":"/open"}},{"match":{"prefix":"/"},"requires":{"providers":["corp"]}}]}`, iss.JWKS())
		ctx := context.Background()
		p, err := host.Load(ctx, testhost.Wasm(b), host.WithPoolSize(1), host.WithLogger(slog.New(slog.DiscardHandler)),
			host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature))
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Configure(ctx, []byte(cfg)); err != nil {
			b.Fatal(err)
		}
		h := p.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		cases := []struct {
			name, path, auth string
			code             int
		}{
			{"valid token", "/v1/score", "Bearer " + tok, 200},
			{"no token", "/v1/score", "", 401},
			{"open path", "/open", "", 200},
		}
		for _, c := range cases {
			b.Run(string(alg)+"/"+c.name, func(b *testing.B) {
				req := httptest.NewRequest("GET", c.path, nil)
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != c.code {
						b.Fatalf("status %d, want %d: %s", rec.Code, c.code, rec.Body)
					}
				}
			})
		}
		p.Close(ctx)
	}
}
