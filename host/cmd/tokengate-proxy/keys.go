package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/tokengate/tokengate/internal/refreshapi"
	"github.com/tokengate/tokengate/jwksfetch"
)

// keySource keeps the running plugin supplied with keys. For providers
// without inline "jwks" it runs jwksfetch in-process: the configuration is
// applied at once (those providers answer 503 until their keys arrive), and
// every key set the fetcher renders afterwards is applied the same way, so a
// rotation never restarts anything and no request waits for it.
//
// The plugin reaches the fetcher's refresh endpoint through the upstream
// named "jwksfetch", which this process serves in memory. So a configuration
// with fetched providers needs no "refresh" setting: apply adds
// "refresh": {"cluster": "jwksfetch"} when it has none, and a token signed
// with a key the fetcher has not seen yet waits for the fetcher's answer
// instead of being refused ("refresh": false turns it off).
type keySource struct {
	px  *proxy
	log *slog.Logger

	mu     sync.Mutex
	gen    uint64             // bumped by every apply; a replaced fetcher's renders are dropped
	f      *jwksfetch.Fetcher // nil: every provider has inline keys
	cancel context.CancelFunc
	done   chan struct{}
}

// apply checks cfg, applies it, and starts fetching its key sets, replacing
// the previous fetcher. An error leaves the previous state serving.
func (k *keySource) apply(ctx context.Context, cfg []byte, opts ...jwksfetch.Option) error {
	k.mu.Lock()
	gen := k.gen + 1
	k.mu.Unlock()
	publish := func(ctx context.Context, rendered []byte) error {
		k.mu.Lock()
		defer k.mu.Unlock() // serialises with apply: no stale render lands after a newer configuration
		if k.gen != gen {
			return nil
		}
		return k.px.Configure(ctx, rendered)
	}
	opts = append([]jwksfetch.Option{jwksfetch.WithLogger(k.log), jwksfetch.WithSink(jwksfetch.SinkFunc(publish))}, opts...)
	f, err := jwksfetch.New(cfg, opts...)
	if err != nil {
		return err
	}
	if len(f.Status()) > 0 {
		if withRefresh := refreshapi.EnableByDefault(cfg); len(withRefresh) != len(cfg) {
			cfg = withRefresh
			if f, err = jwksfetch.New(cfg, opts...); err != nil {
				return err
			}
		}
	}
	k.mu.Lock()
	err = k.px.Configure(ctx, cfg)
	if err == nil {
		k.gen = gen
	}
	k.mu.Unlock()
	if err != nil {
		return err
	}
	k.stop()
	if len(f.Status()) == 0 {
		return nil
	}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.Run(fctx); err != nil {
			k.log.Error("key fetcher stopped", "err", err)
		}
	}()
	k.mu.Lock()
	k.f, k.cancel, k.done = f, cancel, done
	k.mu.Unlock()
	return nil
}

// stop ends the current fetcher and waits for it.
func (k *keySource) stop() {
	k.mu.Lock()
	cancel, done := k.cancel, k.done
	k.f, k.cancel, k.done = nil, nil, nil
	k.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (k *keySource) fetcher() *jwksfetch.Fetcher {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.f
}

// ready reports whether every fetched provider has a key set.
func (k *keySource) ready() bool {
	f := k.fetcher()
	return f == nil || f.Ready()
}

func (k *keySource) writeMetrics(w io.Writer) {
	if f := k.fetcher(); f != nil {
		_ = f.WriteMetrics(w)
	}
}

// RoundTrip serves the plugin's HTTP calls to the "jwksfetch" upstream with
// the fetcher's admin handler, in memory.
func (k *keySource) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	if f := k.fetcher(); f != nil {
		f.AdminHandler().ServeHTTP(rec, r)
	} else {
		http.Error(rec, "no key set is fetched", http.StatusNotFound)
	}
	return &http.Response{StatusCode: rec.code, Status: http.StatusText(rec.code), Header: rec.header,
		Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: r,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// recorder is the smallest http.ResponseWriter that keeps what is written.
type recorder struct {
	header http.Header
	code   int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
