package jwksfetch

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeClock is a manual clock. Each After call is recorded, so a test can
// wait until the fetcher has scheduled its next fetch and read the delay it
// chose.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []fakeTimer
	asked  []time.Duration
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.asked = append(c.asked, d)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, fakeTimer{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if !tm.at.After(c.now) {
			tm.ch <- c.now
		} else {
			kept = append(kept, tm)
		}
	}
	c.timers = kept
}

// waitAsked waits until After has been called n times and returns the
// durations asked for.
func (c *fakeClock) waitAsked(t *testing.T, n int) []time.Duration {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		if len(c.asked) >= n {
			out := append([]time.Duration(nil), c.asked...)
			c.mu.Unlock()
			return out
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("the fetcher did not schedule its fetch number %d", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// recorder is a sink that keeps every configuration it receives.
type recorder struct {
	mu      sync.Mutex
	configs [][]byte
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) Publish(_ context.Context, config []byte) error {
	r.mu.Lock()
	r.configs = append(r.configs, bytes.Clone(config))
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.configs)
}

func (r *recorder) latest() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.configs) == 0 {
		return nil
	}
	return r.configs[len(r.configs)-1]
}

// waitFor waits until the latest configuration satisfies ok and returns it.
func (r *recorder) waitFor(t *testing.T, timeout time.Duration, what string, ok func([]byte) bool) []byte {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if c := r.latest(); c != nil && ok(c) {
			return c
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("no configuration where %s within %v; latest: %s", what, timeout, r.latest())
		}
	}
}

// start runs f until the test ends and checks that Run returns on cancel.
func start(t *testing.T, f *Fetcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
}
