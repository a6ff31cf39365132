package gate

import (
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
