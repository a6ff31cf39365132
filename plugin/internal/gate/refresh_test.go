package gate

import (
	"net/url"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

func TestRefreshFor(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"refresh":{"cluster":"jwksfetch","min_interval_seconds":30},
		"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`}}}`)
	t0 := time.Now()
	d := g.Decide(get("/", bearer(mint(t, f.corp, nil, issuer.WithHeader("kid", "new key/&x=1")))...), t0)
	if !d.UnknownKID || d.Provider != "corp" || d.KID != "new key/&x=1" {
		t.Fatalf("decision = %+v", d)
	}
	call, ok := g.RefreshFor(&d, t0)
	if !ok || call.Upstream != "jwksfetch" || call.TimeoutMillis != 2000 {
		t.Fatalf("call = %+v, %v", call, ok)
	}
	var path string
	for _, h := range call.Headers {
		if h[0] == ":path" {
			path = h[1]
		}
	}
	u, err := url.Parse(path)
	if err != nil || u.Path != "/refresh" || u.Query().Get("provider") != "corp" || u.Query().Get("kid") != "new key/&x=1" || len(u.Query()) != 2 {
		t.Fatalf("path %q does not carry exactly the provider and the kid", path)
	}
	if _, ok := g.RefreshFor(&d, t0.Add(10*time.Second)); ok {
		t.Fatalf("a second request within the interval")
	}
	if _, ok := g.RefreshFor(&d, t0.Add(31*time.Second)); !ok {
		t.Fatalf("no request after the interval")
	}
	// Other refusals never ask for a refresh.
	other := g.Decide(get("/", bearer(mint(t, f.corp, nil, issuer.WithTTL(-time.Hour)))...), t0)
	if _, ok := g.RefreshFor(&other, t0.Add(time.Hour)); ok {
		t.Fatalf("an expired token asked for a refresh")
	}
}

func TestRefreshIsOptional(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(f.corp.JWKS())+`}}}`)
	d := g.Decide(get("/", bearer(mint(t, f.corp, nil, issuer.WithHeader("kid", "new")))...), time.Now())
	if _, ok := g.RefreshFor(&d, time.Now()); ok || !d.UnknownKID {
		t.Fatalf("refresh without configuration: %+v", d)
	}
	if _, _, err := Compile([]byte(`{"refresh":{},"providers":{"a":{"issuer":"x"}}}`)); err == nil {
		t.Fatal("a refresh without cluster was accepted")
	}
}
