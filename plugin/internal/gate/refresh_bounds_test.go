package gate

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

// TestPlanRefreshLimitsAreDrawnAtTheRightInstant: a kid of exactly 256
// bytes is asked about; a call is waited for until just before twice its
// timeout (1.5 s here) and not at exactly 3 s; a new call may be sent at
// exactly min_interval_seconds (30 s here) after the last one.
func TestPlanRefreshLimitsAreDrawnAtTheRightInstant(t *testing.T) {
	r := newRotation(t)
	t0 := time.Now()
	newKid := func(t *testing.T) *Request { return r.token(t, "new") }
	tests := []struct {
		name  string
		req   func(t *testing.T) *Request
		setup func(g *Gate, d *Decision)
		at    time.Duration
		want  RefreshStep
	}{
		{name: "a kid of exactly 256 bytes is asked about",
			req: func(t *testing.T) *Request {
				return get("/", bearer(mint(t, r.iss, nil, issuer.WithKey("new"), issuer.WithHeader("kid", strings.Repeat("k", 256))))...)
			}, want: RefreshSend},
		{name: "a call is not waited for at exactly twice its timeout", req: newKid,
			setup: func(g *Gate, d *Decision) { g.PlanRefresh(d, 1, t0) },
			at:    3000 * time.Millisecond, want: RefreshNone},
		{name: "a call is sent again at exactly the interval", req: newKid,
			setup: func(g *Gate, d *Decision) {
				g.PlanRefresh(d, 1, t0)
				g.FinishRefresh("corp", nil, t0.Add(time.Second))
			}, at: 30 * time.Second, want: RefreshSend},
		{name: "a lost call is replaced at exactly the interval", req: newKid,
			setup: func(g *Gate, d *Decision) { g.PlanRefresh(d, 1, t0) },
			at:    30 * time.Second, want: RefreshSend},
		{name: "a kid the fresh set lacked is asked about again at exactly the interval", req: newKid,
			setup: func(g *Gate, d *Decision) {
				g.PlanRefresh(d, 1, t0)
				g.FinishRefresh("corp", r.set(r.old), t0)
			}, at: 30 * time.Second, want: RefreshSend},
		{name: "a kid the fresh set lacked is refused just before the interval ends", req: newKid,
			setup: func(g *Gate, d *Decision) {
				g.PlanRefresh(d, 1, t0)
				g.FinishRefresh("corp", r.set(r.old), t0)
			}, at: 30*time.Second - time.Millisecond, want: RefreshNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := r.gate(t, refreshCfg)
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

// TestMissingKidsAreBoundedAndForgetTheFirstToExpire: at most maxMissing
// kids are remembered per provider; when full, the kid that expires first
// makes room.
func TestMissingKidsAreBoundedAndForgetTheFirstToExpire(t *testing.T) {
	t0 := time.Now()
	tests := []struct {
		name      string
		n         int           // kids remembered before kid "last"
		first     int           // which of them expires first
		lastAfter time.Duration // "last" expires this long after t0
		gone      string        // the kid forgotten, "" for none
	}{
		{name: "one fewer than the bound keeps all", n: maxMissing - 1, first: 0, lastAfter: time.Hour},
		{name: "at the bound the first to expire goes", n: maxMissing, first: 0, lastAfter: time.Hour, gone: "k0"},
		{name: "not the first remembered but the first to expire", n: maxMissing, first: 17, lastAfter: time.Hour, gone: "k17"},
		{name: "the last remembered may be the first to expire", n: maxMissing, first: maxMissing - 1, lastAfter: time.Hour, gone: "k63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &refreshState{missing: map[string]time.Time{}}
			for i := 0; i < tt.n; i++ {
				until := t0.Add(time.Minute + time.Duration(i)*time.Second)
				if i == tt.first {
					until = t0.Add(time.Second)
				}
				st.remember("k"+strconv.Itoa(i), until)
			}
			st.remember("last", t0.Add(tt.lastAfter))
			want := tt.n + 1
			if tt.gone != "" {
				want = tt.n
			}
			if len(st.missing) != want {
				t.Fatalf("%d kids remembered, want %d", len(st.missing), want)
			}
			if _, ok := st.missing["last"]; !ok {
				t.Fatal("the newest kid is not remembered")
			}
			if _, ok := st.missing[tt.gone]; tt.gone != "" && ok {
				t.Fatalf("%s is still remembered", tt.gone)
			}
		})
	}
}

// TestOnlyAKidAFreshSetLacksIsRefusedWithoutACall: after a call that took a
// second, a kid is refused without a call until min_interval_seconds after
// the answer only when the set installed from that answer lacks it; after a
// failed call, a refused set, or a set that holds the kid, the interval
// counts from when the call was sent.
func TestOnlyAKidAFreshSetLacksIsRefusedWithoutACall(t *testing.T) {
	r := newRotation(t)
	t0 := time.Now()
	tests := []struct {
		name   string
		answer func() []byte
		replay func(g *Gate) // what happens to the key set after the answer
		want   RefreshStep
	}{
		{name: "a set without the kid", answer: func() []byte { return r.set(r.old) }, want: RefreshNone},
		{name: "a failed call", answer: func() []byte { return nil }, want: RefreshSend},
		{name: "a refused set", answer: func() []byte { return []byte(`{"keys":{}}`) }, want: RefreshSend},
		{name: "a set with the kid, withdrawn later", answer: func() []byte { return r.set(r.old, r.new) },
			replay: func(g *Gate) {
				if _, err := g.ReplaceKeys("corp", r.set(r.old)); err != nil {
					t.Fatal(err)
				}
			}, want: RefreshSend},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := r.gate(t, refreshCfg)
			req := r.token(t, "new")
			d := g.Decide(req, t0)
			if step, _ := g.PlanRefresh(&d, 1, t0); step != RefreshSend {
				t.Fatalf("first request: step %v", step)
			}
			g.FinishRefresh("corp", tt.answer(), t0.Add(time.Second))
			if tt.replay != nil {
				tt.replay(g)
			}
			at := t0.Add(30*time.Second + 500*time.Millisecond)
			d = g.Decide(req, at)
			if got, _ := g.PlanRefresh(&d, 2, at); got != tt.want {
				t.Fatalf("30.5 s after the call: step %v, want %v (decision %+v)", got, tt.want, d)
			}
		})
	}
}

// TestRefreshTargetMustBePrintable: the authority and path of the refresh
// call are sent as pseudo-headers, so both must be printable ASCII.
func TestRefreshTargetMustBePrintable(t *testing.T) {
	tests := []struct{ name, refresh, err string }{
		{"a printable authority and path", `{"cluster":"j","authority":"jwksfetch.internal","path":"/keys/refresh"}`, ""},
		{"an authority with a control byte", `{"cluster":"j","authority":"a\u0001b"}`, "refresh.authority: must be printable ASCII"},
		{"a path with a control byte", `{"cluster":"j","path":"/a\u0001b"}`, "refresh.path: must be an absolute path in canonical form (no spaces, empty or dot segments, or encoded unreserved characters)"},
		{"an empty path", `{"cluster":"j","path":""}`, "refresh.path: must be an absolute path in canonical form (no spaces, empty or dot segments, or encoded unreserved characters)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compileErr(`{"refresh":` + tt.refresh + `,"providers":{"a":{"issuer":"x"}}}`); got != tt.err {
				t.Fatalf("Compile error %q, want %q", got, tt.err)
			}
		})
	}
}

func TestRefreshPathMustBeCanonical(t *testing.T) {
	for _, p := range []string{"/a b", "//refresh", "/x/../refresh", "refresh", "/%72efresh", ""} {
		_, _, err := Compile([]byte(`{"providers":{"a":{"issuer":"x"}},"refresh":{"cluster":"jwksfetch","path":"` + p + `"}}`))
		if err == nil || !strings.Contains(err.Error(), "refresh.path") {
			t.Errorf("refresh path %q: error %v, want one naming refresh.path", p, err)
		}
	}
	if _, _, err := Compile([]byte(`{"providers":{"a":{"issuer":"x"}},"refresh":{"cluster":"jwksfetch","path":"/keys/refresh"}}`)); err != nil {
		t.Errorf("a canonical path is refused: %v", err)
	}
}
