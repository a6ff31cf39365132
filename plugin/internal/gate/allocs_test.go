package gate

import (
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/tokengate/tokengate/internal/issuer"
)

// outputsConfig has output headers (claim_to_headers, payload_header), so an
// accepted request both removes and sets headers: the Decision slices that
// must not cost an allocation per request.
func outputsConfig(t testing.TB) string {
	f := fx(t)
	return `{"providers": {"corp": {"issuer": "` + corpURL + `", "audiences": ["` + aud + `"], "jwks": ` + string(f.corp.JWKS()) + `,
    "claim_to_headers": [{"claim": "sub", "header": "x-user"}], "payload_header": "x-claims"}},
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]}`
}

// TestDecideCachedAllocatesNothing holds the decisions a proxy makes most
// often, a cached token and a public route, to no allocation: in the module
// each allocation costs far more than natively, and garbage makes the GC run
// inside request callbacks.
func TestDecideCachedAllocatesNothing(t *testing.T) {
	f := fx(t)
	tok := mint(t, f.corp, issuer.Claims{"sub": "alice"}, issuer.WithTTL(time.Hour))
	tests := []struct {
		name, config string
		req          *Request
	}{
		{"a cached token, no output headers", standardConfig(t), get("/v1/score", bearer(mint(t, f.corp, issuer.Claims{"scope": "score"}, issuer.WithTTL(time.Hour)))...)},
		{"a cached token that sets and removes headers", outputsConfig(t), get("/v1/score", bearer(tok)...)},
		{"a public route that removes output headers", outputsConfig(t), get("/healthz")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, tt.config)
			if d := g.Decide(tt.req, time.Now()); !d.Allow { // fills the cache
				t.Fatalf("refused: %s", d.Reason)
			}
			now := time.Now()
			if n := testing.AllocsPerRun(100, func() { g.Decide(tt.req, now) }); n != 0 {
				t.Errorf("Decide allocates %.0f times per request, want 0", n)
			}
		})
	}
}

// TestDecideSharedSlicesStayCorrect proves that the Decision slices shared to
// save allocations (headerRemovals, the cache entry's headers) are never
// changed by a later decision: two decisions kept side by side each keep
// their own headers, and a forged header (which takes the allocating path)
// does not leak into the shared list.
func TestDecideSharedSlicesStayCorrect(t *testing.T) {
	f := fx(t)
	g := compile(t, outputsConfig(t))
	alice := mint(t, f.corp, issuer.Claims{"sub": "alice"}, issuer.WithTTL(time.Hour))
	bob := mint(t, f.corp, issuer.Claims{"sub": "bob"}, issuer.WithTTL(time.Hour))
	a1 := g.Decide(get("/x", bearer(alice)...), time.Now())
	b1 := g.Decide(get("/x", append(bearer(bob), "x_user", "mallory")...), time.Now())
	a2 := g.Decide(get("/x", bearer(alice)...), time.Now())
	tests := []struct {
		name       string
		d          Decision
		wantRemove []string
		wantUser   string
	}{
		{"the first decision keeps its headers", a1, []string{"x-user", "x-claims", "authorization"}, "alice"},
		{"a forged header is removed by its own name", b1, []string{"x-user", "x-claims", "x_user", "authorization"}, "bob"},
		{"a cached decision after it has the shared list unchanged", a2, []string{"x-user", "x-claims", "authorization"}, "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.d.Allow {
				t.Fatalf("refused: %s", tt.d.Reason)
			}
			if !slices.Equal(tt.d.RemoveHeaders, tt.wantRemove) {
				t.Errorf("RemoveHeaders = %q, want %q", tt.d.RemoveHeaders, tt.wantRemove)
			}
			if got := setHeader(tt.d, "x-user"); got != tt.wantUser {
				t.Errorf("x-user = %q, want %q", got, tt.wantUser)
			}
			if !tt.d.Replaces("x-user") || tt.d.Replaces("authorization") {
				t.Errorf("Replaces: x-user %v, authorization %v; want true, false", tt.d.Replaces("x-user"), tt.d.Replaces("authorization"))
			}
		})
	}
	if !a2.Cached {
		t.Error("the second request with the same token was not a cache hit")
	}
}

// TestDecideKeepsNoRequestMemory proves that what the gate keeps of a
// request (the cached token and the headers rendered from it) is its own
// copy: the plugin hands it header strings that alias a buffer the host
// reuses for the next request.
func TestDecideKeepsNoRequestMemory(t *testing.T) {
	f := fx(t)
	g := compile(t, outputsConfig(t))
	tok := mint(t, f.corp, issuer.Claims{"sub": "alice"}, issuer.WithTTL(time.Hour))
	buf := []byte("Bearer " + tok)
	aliased := unsafe.String(unsafe.SliceData(buf), len(buf))
	first := g.Decide(&Request{Headers: [][2]string{{":method", "GET"}, {":path", "/x"}, {":authority", "api"}, {"authorization", aliased}}}, time.Now())
	wantClaims := setHeader(first, "x-claims")
	for i := range buf { // the host reuses its buffer
		buf[i] = 'A'
	}
	d := g.Decide(get("/x", bearer(tok)...), time.Now())
	if !d.Allow || !d.Cached {
		t.Fatalf("the same token again: allow %v, cached %v (%s)", d.Allow, d.Cached, d.Reason)
	}
	if got := setHeader(d, "x-claims"); got != wantClaims || got == "" {
		t.Fatalf("x-claims after the request buffer was reused = %q, want %q", got, wantClaims)
	}
}

func setHeader(d Decision, name string) string {
	for _, h := range d.SetHeaders {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}
