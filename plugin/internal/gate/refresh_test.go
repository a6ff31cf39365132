package gate

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

// rotation is a provider whose key set holds "old", and an issuer that can
// also sign with "new", which the set lacks until the fetcher brings it.
type rotation struct {
	iss      *issuer.Issuer
	old, new *issuer.Key
}

func newRotation(t *testing.T) *rotation {
	t.Helper()
	iss, err := issuer.New(corpURL)
	if err != nil {
		t.Fatal(err)
	}
	r := &rotation{iss: iss}
	if r.old, err = issuer.NewKey(issuer.ES256, "old"); err != nil {
		t.Fatal(err)
	}
	if r.new, err = issuer.NewKey(issuer.ES256, "new"); err != nil {
		t.Fatal(err)
	}
	iss.Keys = []*issuer.Key{r.old, r.new}
	return r
}

// set returns the JWK Set of the given keys.
func (r *rotation) set(keys ...*issuer.Key) []byte {
	saved := r.iss.Keys
	defer func() { r.iss.Keys = saved }()
	r.iss.Keys = keys
	return r.iss.JWKS()
}

func (r *rotation) token(t *testing.T, kid string) *Request {
	t.Helper()
	return get("/", bearer(mint(t, r.iss, nil, issuer.WithKey(kid)))...)
}

// gate compiles a configuration whose provider "corp" holds only the old key.
func (r *rotation) gate(t *testing.T, refresh string) *Gate {
	t.Helper()
	return compile(t, `{`+refresh+`"providers":{"corp":{"issuer":"`+corpURL+`","jwks":`+string(r.set(r.old))+`},
		"pass":{"type":"passphrase","passphrase":"0123456789abcdef"}}}`)
}

const refreshCfg = `"refresh":{"cluster":"jwksfetch","min_interval_seconds":30,"timeout_ms":1500},`

func TestRefreshPausesRequestsUntilTheFreshSetIsInstalled(t *testing.T) {
	r := newRotation(t)
	g := r.gate(t, refreshCfg)
	t0 := time.Now()
	newKid := r.token(t, "new")
	d := g.Decide(newKid, t0)
	if d.Allow || !d.UnknownKID || d.Provider != "corp" || d.KID != "new" {
		t.Fatalf("before the refresh: %+v", d)
	}
	step, call := g.PlanRefresh(&d, 1, t0)
	if step != RefreshSend || call.Upstream != "jwksfetch" || call.TimeoutMillis != 1500 {
		t.Fatalf("first unknown-kid request: step %v, call %+v; want a call to send", step, call)
	}
	want := map[string]string{":method": "POST", ":authority": "jwksfetch", "accept": "application/jwk-set+json", "content-length": "0"}
	for _, h := range call.Headers {
		if w, ok := want[h[0]]; ok && w != h[1] {
			t.Errorf("header %s = %q, want %q", h[0], h[1], w)
		}
		delete(want, h[0])
		if h[0] == ":path" {
			u, err := url.Parse(h[1])
			if err != nil || u.Path != "/refresh" || u.Query().Get("provider") != "corp" || u.Query().Get("kid") != "new" {
				t.Errorf(":path %q does not name provider corp and kid new", h[1])
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("headers missing from the call: %v", want)
	}

	// While the call is in flight, further unknown-kid requests of the
	// provider wait on it, whatever their kid; nothing else is sent.
	random := r.token(t, "old") // signed with "old", but named "made-up" below
	random.Headers[len(random.Headers)-1][1] = "Bearer " + mint(t, r.iss, nil, issuer.WithKey("old"), issuer.WithHeader("kid", "made-up"))
	dr := g.Decide(random, t0)
	for i, tc := range []struct {
		d  *Decision
		id uint32
	}{{&d, 2}, {&dr, 3}} {
		if step, _ := g.PlanRefresh(tc.d, tc.id, t0.Add(time.Duration(i)*time.Millisecond)); step != RefreshWait {
			t.Fatalf("request %d during the call: step %v, want RefreshWait", tc.id, step)
		}
	}

	ids, warnings, err := g.FinishRefresh("corp", r.set(r.old, r.new), t0.Add(50*time.Millisecond))
	if err != nil || len(warnings) > 0 {
		t.Fatalf("FinishRefresh: %v %v", warnings, err)
	}
	if len(ids) != 3 || ids[0] != 1 || ids[1] != 2 || ids[2] != 3 {
		t.Fatalf("requests to decide again = %v, want [1 2 3] in arrival order", ids)
	}
	if d := g.Decide(newKid, t0.Add(50*time.Millisecond)); !d.Allow {
		t.Fatalf("the new kid after the refresh: %+v", d)
	}
	// The made-up kid is still unknown: refused, and refused at once from
	// now on, without a call and without waiting.
	dr = g.Decide(random, t0.Add(60*time.Millisecond))
	if dr.Allow || !dr.UnknownKID {
		t.Fatalf("made-up kid after the refresh: %+v", dr)
	}
	if step, _ := g.PlanRefresh(&dr, 4, t0.Add(60*time.Millisecond)); step != RefreshNone {
		t.Fatalf("a kid the fresh set lacked: step %v, want RefreshNone", step)
	}
	// Nothing is left in flight: a finish without a call returns nothing.
	if ids, _, _ := g.FinishRefresh("corp", r.set(r.old, r.new), t0.Add(time.Second)); len(ids) != 0 {
		t.Fatalf("a second FinishRefresh returned %v", ids)
	}
}

func TestPlanRefreshAnswersAtOnce(t *testing.T) {
	r := newRotation(t)
	t0 := time.Now()
	tests := []struct {
		name    string
		refresh string
		req     func(t *testing.T) *Request
		setup   func(g *Gate, d *Decision) // what happened before, on the same gate
		at      time.Duration
		want    RefreshStep
	}{
		{name: "without refresh configured nothing is sent", req: func(t *testing.T) *Request { return r.token(t, "new") }, want: RefreshNone},
		{name: "refresh false turns it off", refresh: `"refresh":false,`, req: func(t *testing.T) *Request { return r.token(t, "new") }, want: RefreshNone},
		{name: "an allowed request is not paused", refresh: refreshCfg, req: func(t *testing.T) *Request { return r.token(t, "old") }, want: RefreshNone},
		{name: "an expired token is not paused", refresh: refreshCfg,
			req: func(t *testing.T) *Request {
				return get("/", bearer(mint(t, r.iss, nil, issuer.WithKey("old"), issuer.WithTTL(-time.Hour)))...)
			}, want: RefreshNone},
		{name: "a kid longer than 256 bytes is not asked about", refresh: refreshCfg,
			req: func(t *testing.T) *Request {
				return get("/", bearer(mint(t, r.iss, nil, issuer.WithKey("new"), issuer.WithHeader("kid", strings.Repeat("k", 257))))...)
			}, want: RefreshNone},
		{name: "within the interval after a finished call nothing is sent", refresh: refreshCfg,
			req: func(t *testing.T) *Request { return r.token(t, "new") },
			setup: func(g *Gate, d *Decision) {
				g.PlanRefresh(d, 1, t0)
				g.FinishRefresh("corp", nil, t0.Add(time.Second)) // the call failed
			}, at: 29 * time.Second, want: RefreshNone},
		{name: "after the interval a call is sent again", refresh: refreshCfg,
			req: func(t *testing.T) *Request { return r.token(t, "new") },
			setup: func(g *Gate, d *Decision) {
				g.PlanRefresh(d, 1, t0)
				g.FinishRefresh("corp", nil, t0.Add(time.Second))
			}, at: 31 * time.Second, want: RefreshSend},
		{name: "a kid the fresh set lacked is refused at once until the interval ends", refresh: refreshCfg,
			req: func(t *testing.T) *Request { return r.token(t, "new") },
			setup: func(g *Gate, d *Decision) {
				g.PlanRefresh(d, 1, t0)
				g.FinishRefresh("corp", r.set(r.old), t0.Add(time.Second))
			}, at: 20 * time.Second, want: RefreshNone},
		{name: "when 256 requests wait, the next is refused at once", refresh: refreshCfg,
			req: func(t *testing.T) *Request { return r.token(t, "new") },
			setup: func(g *Gate, d *Decision) {
				for i := uint32(1); i <= maxWaiters; i++ {
					g.PlanRefresh(d, i, t0)
				}
			}, at: time.Millisecond, want: RefreshNone},
		{name: "one request fewer still waits", refresh: refreshCfg,
			req: func(t *testing.T) *Request { return r.token(t, "new") },
			setup: func(g *Gate, d *Decision) {
				for i := uint32(1); i < maxWaiters; i++ {
					g.PlanRefresh(d, i, t0)
				}
			}, at: time.Millisecond, want: RefreshWait},
		{name: "a call the host never answered is not waited for after twice its timeout", refresh: refreshCfg,
			req:   func(t *testing.T) *Request { return r.token(t, "new") },
			setup: func(g *Gate, d *Decision) { g.PlanRefresh(d, 1, t0) },
			at:    3001 * time.Millisecond, want: RefreshNone},
		{name: "a call just within twice its timeout is still waited for", refresh: refreshCfg,
			req:   func(t *testing.T) *Request { return r.token(t, "new") },
			setup: func(g *Gate, d *Decision) { g.PlanRefresh(d, 1, t0) },
			at:    2999 * time.Millisecond, want: RefreshWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := r.gate(t, tt.refresh)
			req := tt.req(t)
			d := g.Decide(req, t0)
			if tt.setup != nil {
				tt.setup(g, &d)
			}
			d = g.Decide(req, t0.Add(tt.at))
			if got, _ := g.PlanRefresh(&d, 999, t0.Add(tt.at)); got != tt.want {
				t.Fatalf("step %v, want %v (decision %+v)", got, tt.want, d)
			}
		})
	}
}

func TestFinishRefreshWithoutKeysKeepsTheSetInForce(t *testing.T) {
	r := newRotation(t)
	g := r.gate(t, refreshCfg)
	t0 := time.Now()
	d := g.Decide(r.token(t, "new"), t0)
	g.PlanRefresh(&d, 7, t0)
	ids, _, err := g.FinishRefresh("corp", nil, t0.Add(time.Second))
	if err != nil || len(ids) != 1 || ids[0] != 7 {
		t.Fatalf("a failed call: ids %v, err %v; want the paused request back", ids, err)
	}
	if d := g.Decide(r.token(t, "new"), t0.Add(time.Second)); d.Allow || d.Status != 401 || !d.UnknownKID {
		t.Fatalf("after a failed call the new kid got %+v, want the usual 401", d)
	}
	if d := g.Decide(r.token(t, "old"), t0.Add(time.Second)); !d.Allow {
		t.Fatalf("after a failed call the old kid got %+v", d)
	}
}

func TestReplaceKeys(t *testing.T) {
	r := newRotation(t)
	tests := []struct {
		name, provider, jwks string
		err                  string // "" for success
	}{
		{"a set with the new key is installed", "corp", string(r.set(r.old, r.new)), ""},
		{"an unknown provider is refused", "nope", string(r.set(r.new)), `no token provider named "nope"`},
		{"a passphrase provider has no keys", "pass", string(r.set(r.new)), `no token provider named "pass"`},
		{"a document that is not a key set is refused", "corp", `{"keys":{}}`, "is refused, keeping the keys in force"},
		{"a duplicate member is refused like in the configuration", "corp", `{"keys":[],"keys":[]}`, "is refused, keeping the keys in force"},
		{"a set without a usable key is refused", "corp", `{"keys":[{"kty":"oct","k":"AAAA"}]}`, "has no usable key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := r.gate(t, "")
			_, err := g.ReplaceKeys(tt.provider, []byte(tt.jwks))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d := g.Decide(r.token(t, "new"), time.Now()); !d.Allow {
					t.Fatalf("the new key after ReplaceKeys: %+v", d)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want one containing %q", err, tt.err)
			}
			if d := g.Decide(r.token(t, "old"), time.Now()); !d.Allow {
				t.Fatalf("the keys in force changed after a refused set: %+v", d)
			}
		})
	}
}

// TestReplaceKeysEmptiesTheCacheOnlyWhenAKeyIsWithdrawn: a token verified
// with a key the new set no longer holds is not accepted from the cache.
func TestReplaceKeysEmptiesTheCacheOnlyWhenAKeyIsWithdrawn(t *testing.T) {
	r := newRotation(t)
	g := r.gate(t, "")
	now := time.Now()
	old := r.token(t, "old")
	if d := g.Decide(old, now); !d.Allow || d.Cached {
		t.Fatalf("first use: %+v", d)
	}
	if _, err := g.ReplaceKeys("corp", r.set(r.old, r.new)); err != nil {
		t.Fatal(err)
	}
	if d := g.Decide(old, now); !d.Allow || !d.Cached {
		t.Fatalf("a key was added, so the cache should stay: %+v", d)
	}
	if _, err := g.ReplaceKeys("corp", r.set(r.new)); err != nil {
		t.Fatal(err)
	}
	if d := g.Decide(old, now); d.Allow || d.Cached || !d.UnknownKID {
		t.Fatalf("the old key was withdrawn, its token must be refused: %+v", d)
	}
}

func TestRefreshConfiguration(t *testing.T) {
	tests := []struct{ name, refresh, err string }{
		{"a refresh without a cluster is refused", `{}`, "refresh.cluster: is required"},
		{"a zero timeout is refused", `{"cluster":"j","timeout_ms":0}`, "refresh.timeout_ms: must be at least 1"},
		{"a relative path is refused", `{"cluster":"j","path":"refresh"}`, "refresh.path: must be an absolute path"},
		{"true is not an object", `true`, "refresh: must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(`{"refresh":` + tt.refresh + `,"providers":{"a":{"issuer":"x"}}}`))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}
