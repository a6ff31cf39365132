package zitadel

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/jwksfetch"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder is a jwksfetch.Sink that keeps every configuration it is given.
type recorder struct {
	mu      sync.Mutex
	last    []byte
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) Publish(_ context.Context, config []byte) error {
	r.mu.Lock()
	r.last = bytes.Clone(config)
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) latest() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
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

// start runs f until the test ends.
func start(t *testing.T, f *jwksfetch.Fetcher) {
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

// kidsIn returns the kids of provider's key set in a rendered
// configuration, or nil when it has none.
func kidsIn(t *testing.T, config []byte, provider string) []string {
	t.Helper()
	var doc struct {
		Providers map[string]struct {
			JWKS *struct{ Keys []struct{ Kid string } } `json:"jwks"`
		} `json:"providers"`
	}
	if err := json.Unmarshal(config, &doc); err != nil {
		t.Fatalf("rendered configuration is not JSON: %v", err)
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
