package gate

import (
	"testing"
	"unsafe"
)

// TestCacheKeepsItsOwnCopyOfTheToken: the plugin hands Decide header values
// that alias memory the host reuses for the next request. The cache must
// keep its own copy of a token, or the next request's bytes would rewrite
// the key of a verified entry and a forged token would find it.
func TestCacheKeepsItsOwnCopyOfTheToken(t *testing.T) {
	g := compile(t, standardConfig(t))
	valid := mint(t, fx(t).corp, nil)
	buf := []byte("Bearer " + valid)
	view := unsafe.String(&buf[0], len(buf)) // what the binding passes: no copy
	if d := g.Decide(get("/models", "authorization", view), now()); !d.Allow {
		t.Fatalf("the valid token was refused: %s", d.Reason)
	}
	// The host reuses the buffer for the next request's headers: a forged
	// token of the same length.
	forged := []byte("Bearer " + valid)
	forged[len(forged)-3] ^= 1
	copy(buf, forged)
	if d := g.Decide(get("/models", "authorization", string(forged)), now()); d.Allow {
		t.Fatalf("a forged token was allowed through the cache entry of another")
	}
	if d := g.Decide(get("/models", bearer(valid)...), now()); !d.Allow || !d.Cached {
		t.Fatalf("the valid token lost its cache entry: allow=%v cached=%v", d.Allow, d.Cached)
	}
}
