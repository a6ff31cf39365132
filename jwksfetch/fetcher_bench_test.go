package jwksfetch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

// BenchmarkUsableKeys measures checking a typical provider set (two RSA and
// two EC keys) before it is published.
func BenchmarkUsableKeys(b *testing.B) {
	body := []byte(set(newJWK(b, issuer.RS256, "r1"), newJWK(b, issuer.RS256, "r2"), newJWK(b, issuer.ES256, "e1"), newJWK(b, issuer.ES256, "e2")))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, _, err := usableKeys(body, 100); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender measures rendering a configuration with ten fetched
// providers, done once per key change.
func BenchmarkRender(b *testing.B) {
	var provs []string
	for i := 0; i < 10; i++ {
		provs = append(provs, fmt.Sprintf(`"p%d":{"issuer":"https://idp%d.example"}`, i, i))
	}
	f, err := New([]byte(`{"realm":"r","providers":{`+strings.Join(provs, ",")+`},"rules":[{"match":{"prefix":"/"}}]}`), WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	jwks := json.RawMessage(set(newJWK(b, issuer.RS256, "r1"), newJWK(b, issuer.ES256, "e1")))
	for _, p := range f.provs {
		p.jwks = jwks
	}
	for b.Loop() {
		if _, err := f.Config(); err != nil {
			b.Fatal(err)
		}
	}
}
