package metrics

import (
	"errors"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/abi"
	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// fakeHost records metrics like Envoy: ids from 0 in definition order, and a
// definition it refuses gets no id. It allocates nothing after Define, so
// that allocation counts measure Count alone.
type fakeHost struct {
	refuse     map[string]bool
	names      []string
	types      []abi.MetricType
	values     []int64  // counter totals; for a histogram, the number of samples
	last       []uint64 // the last histogram sample
	now        time.Time
	clock      int // Now calls
	records    int // RecordMetric calls
	increments int // IncrementMetric calls
}

func (h *fakeHost) DefineMetric(typ abi.MetricType, name string) (uint32, error) {
	if h.refuse[name] {
		return 0, errors.New("metric refused")
	}
	h.names = append(h.names, name)
	h.types = append(h.types, typ)
	h.values = append(h.values, 0)
	h.last = append(h.last, 0)
	return uint32(len(h.names) - 1), nil
}

func (h *fakeHost) IncrementMetric(id uint32, delta int64) error {
	if h.types[id] != abi.MetricCounter {
		panic("IncrementMetric on " + h.names[id] + ", which is not a counter")
	}
	h.values[id] += delta
	h.increments++
	return nil
}

func (h *fakeHost) RecordMetric(id uint32, v uint64) error {
	if h.types[id] != abi.MetricHistogram {
		panic("RecordMetric on " + h.names[id] + ", which is not a histogram")
	}
	h.records++
	h.values[id]++
	h.last[id] = v
	return nil
}

func (h *fakeHost) Now() time.Time { h.clock++; return h.now }

// nonZero returns the metrics that moved, by name.
func (h *fakeHost) nonZero() map[string]int64 {
	out := map[string]int64{}
	for i, v := range h.values {
		if v != 0 {
			out[h.names[i]] = v
		}
	}
	return out
}

func TestCount(t *testing.T) {
	const took = 250 * time.Microsecond
	tests := []struct {
		name     string
		decision gate.Decision
		want     map[string]int64
		timed    bool // one clock read and a sample of 250 µs in tokengate.verify_us
	}{
		{
			name:     "a cached token counts a cache hit and is not timed",
			decision: gate.Decision{Allow: true, Provider: "corp", Cached: true},
			want:     map[string]int64{"tokengate.requests.allowed": 1, "tokengate.provider.corp.allowed": 1, "tokengate.cache.hits": 1},
		},
		{
			name:     "a token checked from scratch is timed",
			decision: gate.Decision{Allow: true, Provider: "corp"},
			want:     map[string]int64{"tokengate.requests.allowed": 1, "tokengate.provider.corp.allowed": 1, "tokengate.verify_us": 1},
			timed:    true,
		},
		{
			name:     "a public route is counted but not timed",
			decision: gate.Decision{Allow: true},
			want:     map[string]int64{"tokengate.requests.allowed": 1},
		},
		{
			name:     "a refusal counts its code and is timed",
			decision: gate.Decision{Status: 401, Code: "token_expired", Provider: "corp"},
			want:     map[string]int64{"tokengate.requests.denied": 1, "tokengate.denied.token_expired": 1, "tokengate.verify_us": 1},
			timed:    true,
		},
		{
			name:     "missing keys count as unavailable, not denied",
			decision: gate.Decision{Status: 503, Code: "keys_unavailable", Provider: "corp"},
			want:     map[string]int64{"tokengate.requests.keys_unavailable": 1, "tokengate.denied.keys_unavailable": 1, "tokengate.verify_us": 1},
			timed:    true,
		},
		{
			name:     "a dry-run refusal counts as allowed and as dry-run denied",
			decision: gate.Decision{Allow: true, DryRun: true, Status: 403, Code: "scope_missing"},
			want:     map[string]int64{"tokengate.requests.allowed": 1, "tokengate.requests.dry_run_denied": 1},
		},
		{
			name:     "a provider the configuration does not name is counted as allowed only",
			decision: gate.Decision{Allow: true, Provider: "elsewhere", Cached: true},
			want:     map[string]int64{"tokengate.requests.allowed": 1, "tokengate.cache.hits": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHost{now: time.Unix(1700000000, 0)}
			m := Define(h, []string{"corp", "partner"}, gate.Codes())
			m.Count(&tt.decision, h.now.Add(-took))
			m.Flush()
			got := h.nonZero()
			if len(got) != len(tt.want) {
				t.Errorf("metrics moved: %v, want %v", got, tt.want)
			}
			for name, n := range tt.want {
				if got[name] != n {
					t.Errorf("%s = %d, want %d (all: %v)", name, got[name], n, got)
				}
			}
			wantReads := 0
			if tt.timed {
				wantReads = 1
			}
			if h.clock != wantReads || h.records != wantReads {
				t.Errorf("clock read %d times and %d samples recorded, want %d of each", h.clock, h.records, wantReads)
			}
			if tt.timed && h.last[index(t, h, "tokengate.verify_us")] != uint64(took/time.Microsecond) {
				t.Errorf("recorded %d µs, want %d", h.last[index(t, h, "tokengate.verify_us")], took/time.Microsecond)
			}
			if n := testing.AllocsPerRun(100, func() { m.Count(&tt.decision, h.now) }); n != 0 {
				t.Errorf("Count allocates %.0f times per decision, want 0", n)
			}
		})
	}
}

func index(t *testing.T, h *fakeHost, name string) int {
	t.Helper()
	for i, n := range h.names {
		if n == name {
			return i
		}
	}
	t.Fatalf("%s was never defined; defined: %v", name, h.names)
	return -1
}

func TestDefine(t *testing.T) {
	t.Run("defines every outcome, provider and code once, with its type", func(t *testing.T) {
		h := &fakeHost{}
		Define(h, []string{"corp"}, gate.Codes())
		want := map[string]abi.MetricType{
			"tokengate.requests.allowed":          abi.MetricCounter,
			"tokengate.requests.denied":           abi.MetricCounter,
			"tokengate.requests.keys_unavailable": abi.MetricCounter,
			"tokengate.cache.hits":                abi.MetricCounter,
			"tokengate.requests.dry_run_denied":   abi.MetricCounter,
			"tokengate.verify_us":                 abi.MetricHistogram,
			"tokengate.provider.corp.allowed":     abi.MetricCounter,
			"tokengate.key_refresh.paused":        abi.MetricCounter,
			"tokengate.key_refresh.allowed":       abi.MetricCounter,
			"tokengate.key_refresh.denied":        abi.MetricCounter,
			"tokengate.key_refresh.timed_out":     abi.MetricCounter,
			"tokengate.key_refresh.abandoned":     abi.MetricCounter,
			"tokengate.key_refresh.pause_ms":      abi.MetricHistogram,
		}
		for _, code := range gate.Codes() {
			want["tokengate.denied."+code] = abi.MetricCounter
		}
		if len(h.names) != len(want) {
			t.Errorf("defined %d metrics %v, want %d", len(h.names), h.names, len(want))
		}
		for i, name := range h.names {
			if typ, ok := want[name]; !ok || typ != h.types[i] {
				t.Errorf("defined %s as type %d; want %v (type %d)", name, h.types[i], ok, typ)
			}
		}
	})

	// Envoy numbers metrics from 0: a refused definition must not leave an
	// id 0 behind that would count into another metric.
	refused := []struct {
		name     string
		refuse   string
		decision gate.Decision
		want     map[string]int64
	}{
		{"a refused counter is skipped and the others still count", "tokengate.requests.allowed",
			gate.Decision{Allow: true, Provider: "corp", Cached: true},
			map[string]int64{"tokengate.provider.corp.allowed": 1, "tokengate.cache.hits": 1}},
		{"a refused histogram is not recorded and the clock is not read", "tokengate.verify_us",
			gate.Decision{Status: 401, Code: "token_expired"},
			map[string]int64{"tokengate.requests.denied": 1, "tokengate.denied.token_expired": 1}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHost{refuse: map[string]bool{tt.refuse: true}}
			m := Define(h, []string{"corp"}, gate.Codes())
			m.Count(&tt.decision, h.now)
			m.Flush()
			got := h.nonZero()
			if len(got) != len(tt.want) {
				t.Errorf("metrics moved: %v, want %v", got, tt.want)
			}
			for name, n := range tt.want {
				if got[name] != n {
					t.Errorf("%s = %d, want %d (all: %v)", name, got[name], n, got)
				}
			}
			if h.clock != 0 || h.records != 0 {
				t.Errorf("clock read %d times, %d samples recorded; want none", h.clock, h.records)
			}
		})
	}
}

// TestFlush proves that counts are held in the module and reach the host in
// one increment per counter that moved: on Flush (the plugin's tick), by
// themselves every FlushEvery decisions, and at once after Close.
func TestFlush(t *testing.T) {
	cached := gate.Decision{Allow: true, Provider: "corp", Cached: true} // moves 3 counters
	tests := []struct {
		name           string
		decisions      int
		flush, close   bool
		wantAllowed    int64
		wantIncrements int
	}{
		{name: "counts wait for a flush", decisions: 5, wantAllowed: 0, wantIncrements: 0},
		{name: "a flush adds them with one call per counter", decisions: 5, flush: true, wantAllowed: 5, wantIncrements: 3},
		{name: "FlushEvery decisions flush by themselves", decisions: FlushEvery, wantAllowed: FlushEvery, wantIncrements: 3},
		{name: "one fewer does not", decisions: FlushEvery - 1, wantAllowed: 0, wantIncrements: 0},
		{name: "after Close every decision is flushed at once", decisions: 2, close: true, wantAllowed: 2, wantIncrements: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHost{}
			m := Define(h, []string{"corp"}, gate.Codes())
			if tt.close {
				m.Close()
			}
			for range tt.decisions {
				m.Count(&cached, h.now)
			}
			if tt.flush {
				m.Flush()
			}
			if got := h.values[index(t, h, "tokengate.requests.allowed")]; got != tt.wantAllowed {
				t.Errorf("tokengate.requests.allowed = %d, want %d", got, tt.wantAllowed)
			}
			if h.increments != tt.wantIncrements {
				t.Errorf("%d IncrementMetric calls, want %d", h.increments, tt.wantIncrements)
			}
			before := h.increments
			m.Flush()
			if tt.close || tt.flush || tt.decisions == FlushEvery {
				if h.increments != before {
					t.Errorf("a flush with nothing pending made %d host calls", h.increments-before)
				}
			}
		})
	}
}
