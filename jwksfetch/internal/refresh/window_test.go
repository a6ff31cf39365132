package refresh

import (
	"net/http"
	"testing"
	"time"
)

func TestInterval(t *testing.T) {
	t.Parallel()
	w := Window{}
	tests := []struct {
		name  string
		cache string
		want  time.Duration
	}{
		{name: "no header uses the default", cache: "", want: 5 * time.Minute},
		{name: "max-age inside the window is honoured", cache: "public, max-age=600", want: 10 * time.Minute},
		{name: "max-age below the minimum is raised", cache: "max-age=0", want: 30 * time.Second},
		{name: "max-age above the maximum is lowered", cache: "max-age=99999999999999", want: 24 * time.Hour},
		{name: "no-store means fetch as soon as allowed", cache: "no-store", want: 30 * time.Second},
		{name: "a malformed max-age is ignored", cache: "max-age=abc", want: 5 * time.Minute},
		{name: "a negative max-age is ignored", cache: "max-age=-5", want: 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.cache != "" {
				h.Set("Cache-Control", tt.cache)
			}
			if got := w.Interval(h); got != tt.want {
				t.Fatalf("Interval(%q) = %v, want %v", tt.cache, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	w := Window{Default: 4 * time.Minute, Min: 30 * time.Second}
	tests := []struct {
		name     string
		failures int
		rnd      float64
		want     time.Duration
	}{
		{name: "the first failure at the low end waits half the minimum", failures: 1, rnd: 0, want: 15 * time.Second},
		{name: "the first failure is capped at the minimum", failures: 1, rnd: 0.999999999, want: 30 * time.Second},
		{name: "the third failure is capped at four times the minimum", failures: 3, rnd: 0.999999999, want: 2 * time.Minute},
		{name: "many failures are capped at the default interval", failures: 50, rnd: 0.999999999, want: 4 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := w.Backoff(tt.failures, func() float64 { return tt.rnd })
			if diff := got - tt.want; diff < -time.Millisecond || diff > time.Millisecond {
				t.Fatalf("Backoff(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}
