package gate

import (
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

// TestCacheKeyIsNotTheToken proves that keying the cache by a token's length
// and last 32 bytes never lets another token through as a hit: a token
// forged from a cached one, changed only before its last 32 bytes, has the
// cached token's key and must still be verified (and refused).
func TestCacheKeyIsNotTheToken(t *testing.T) {
	f := fx(t)
	g := compile(t, standardConfig(t))
	valid := mint(t, f.corp, issuer.Claims{"scope": "score"}, issuer.WithTTL(time.Hour))
	forged := []byte(valid)
	forged[len(forged)/2] ^= 'A' ^ 'B' // inside the payload
	if forged[len(forged)/2] == valid[len(valid)/2] {
		t.Fatal("the forged token equals the valid one")
	}
	if keyOf(string(forged)) != keyOf(valid) {
		t.Fatal("the forged token does not share the valid token's key; the test proves nothing")
	}
	tests := []struct {
		name          string
		token         string
		allow, cached bool
	}{
		{"the valid token is verified and cached", valid, true, false},
		{"the valid token again is a hit", valid, true, true},
		{"a token with the same key is not a hit, and is refused", string(forged), false, false},
		{"the valid token is still a hit after it", valid, true, true},
	}
	for _, tt := range tests {
		d := g.Decide(get("/v1/score", bearer(tt.token)...), time.Now())
		if d.Allow != tt.allow || d.Cached != tt.cached {
			t.Fatalf("%s: allow %v cached %v (%s), want allow %v cached %v", tt.name, d.Allow, d.Cached, d.Reason, tt.allow, tt.cached)
		}
	}
}

func TestSameToken(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abcdefgh12345", "abcdefgh12345", true},
		{"abcdefgh12345", "abcdefgh12346", false}, // in the tail after the 8-byte words
		{"abcdefgX12345", "abcdefgh12345", false}, // in a word
		{"abcdefgh", "abcdefg", false},
	}
	for _, tt := range tests {
		if got := sameToken(tt.a, tt.b); got != tt.want {
			t.Errorf("sameToken(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
