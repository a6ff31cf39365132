package metrics

import (
	"testing"
	"time"

	"github.com/tokengate/tokengate/plugin/internal/gate"
)

func TestPausedRequests(t *testing.T) {
	const waited = 42*time.Millisecond + 700*time.Microsecond
	tests := []struct {
		name    string
		outcome PauseOutcome
		want    map[string]int64
		sample  bool // a sample of 42 ms in tokengate.key_refresh.pause_ms
	}{
		{name: "a request let through after the refresh", outcome: PauseAllowed,
			want:   map[string]int64{"tokengate.key_refresh.paused": 1, "tokengate.key_refresh.allowed": 1, "tokengate.key_refresh.pause_ms": 1},
			sample: true},
		{name: "a request refused after the fetcher answered", outcome: PauseDenied,
			want:   map[string]int64{"tokengate.key_refresh.paused": 1, "tokengate.key_refresh.denied": 1, "tokengate.key_refresh.pause_ms": 1},
			sample: true},
		{name: "a request whose call brought no answer", outcome: PauseTimedOut,
			want:   map[string]int64{"tokengate.key_refresh.paused": 1, "tokengate.key_refresh.timed_out": 1, "tokengate.key_refresh.pause_ms": 1},
			sample: true},
		{name: "a request whose client left is counted but not timed", outcome: PauseAbandoned,
			want: map[string]int64{"tokengate.key_refresh.paused": 1, "tokengate.key_refresh.abandoned": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHost{}
			m := Define(h, []string{"corp"}, gate.Codes())
			m.Paused()
			m.Resumed(tt.outcome, waited)
			if h.increments != 0 {
				t.Errorf("%d host increments before a flush: the counters must be batched", h.increments)
			}
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
			if tt.sample && h.last[index(t, h, "tokengate.key_refresh.pause_ms")] != 42 {
				t.Errorf("pause_ms sample %d, want 42", h.last[index(t, h, "tokengate.key_refresh.pause_ms")])
			}
			if h.clock != 0 {
				t.Errorf("the clock was read %d times; the caller measures the wait", h.clock)
			}
			if n := testing.AllocsPerRun(100, func() { m.Paused(); m.Resumed(tt.outcome, waited) }); n != 0 {
				t.Errorf("counting a paused request allocates %.0f times, want 0", n)
			}
		})
	}
	t.Run("an outcome outside the table and a negative wait count nothing wrong", func(t *testing.T) {
		h := &fakeHost{}
		m := Define(h, []string{"corp"}, gate.Codes())
		m.Resumed(pauseOutcomes, time.Second)
		m.Resumed(PauseAllowed, -time.Second)
		m.Flush()
		got := h.nonZero()
		if len(got) != 2 || got["tokengate.key_refresh.allowed"] != 1 || h.last[index(t, h, "tokengate.key_refresh.pause_ms")] != 0 {
			t.Fatalf("metrics moved: %v", got)
		}
	})
	t.Run("a refused histogram is skipped and the counters still count", func(t *testing.T) {
		h := &fakeHost{refuse: map[string]bool{"tokengate.key_refresh.pause_ms": true}}
		m := Define(h, []string{"corp"}, gate.Codes())
		m.Paused()
		m.Resumed(PauseAllowed, waited)
		m.Flush()
		if got := h.nonZero(); len(got) != 2 || h.records != 0 {
			t.Fatalf("metrics moved %v, %d samples recorded", got, h.records)
		}
	})
}
