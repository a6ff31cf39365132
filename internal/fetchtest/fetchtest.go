// Package fetchtest holds what the key fetcher's tests share, in jwksfetch's
// own tests and in the e2e module: a sink that records each configuration the
// fetcher publishes, a way to run a fetcher for the length of a test, and a
// reader of the key ids a rendered configuration gives a provider.
//
//	rec := fetchtest.NewRecorder()
//	f, _ := jwksfetch.New(cfg, jwksfetch.WithSink(rec))
//	fetchtest.Run(t, f)
//	rec.WaitFor(t, 10*time.Second, "k1 is in force", func(c []byte) bool {
//		return len(fetchtest.KidsIn(t, c, "corp")) == 1
//	})
package fetchtest

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// Recorder is a sink (jwksfetch.Sink) that keeps every configuration it is
// given.
type Recorder struct {
	mu      sync.Mutex
	configs [][]byte
	changed chan struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{}, 1)} }

// Publish records config.
func (r *Recorder) Publish(_ context.Context, config []byte) error {
	r.mu.Lock()
	r.configs = append(r.configs, bytes.Clone(config))
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

// Count is how many configurations were published.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.configs)
}

// Latest is the last configuration published, or nil.
func (r *Recorder) Latest() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.configs) == 0 {
		return nil
	}
	return r.configs[len(r.configs)-1]
}

// WaitFor waits until the latest configuration satisfies ok and returns it;
// it fails the test after timeout, saying what it waited for.
func (r *Recorder) WaitFor(t testing.TB, timeout time.Duration, what string, ok func([]byte) bool) []byte {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if c := r.Latest(); c != nil && ok(c) {
			return c
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("no configuration where %s within %v; latest: %s", what, timeout, r.Latest())
		}
	}
}

// Runner is what Run runs: a *jwksfetch.Fetcher.
type Runner interface {
	Run(ctx context.Context) error
}

// Run runs f until the test ends, and fails the test if Run returns an error
// or does not return within 10 s of being cancelled.
func Run(t testing.TB, f Runner) {
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

// KidsIn returns the kids of provider's key set in a rendered
// configuration, or nil when it has none (the plugin answers 503).
func KidsIn(t testing.TB, config []byte, provider string) []string {
	t.Helper()
	var doc struct {
		Providers map[string]struct {
			JWKS *struct{ Keys []struct{ Kid string } } `json:"jwks"`
		} `json:"providers"`
	}
	if err := json.Unmarshal(config, &doc); err != nil {
		t.Fatalf("the rendered configuration is not JSON: %v", err)
	}
	p := doc.Providers[provider]
	if p.JWKS == nil {
		return nil
	}
	kids := []string{}
	for _, k := range p.JWKS.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}
