package host_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokengate/tokengate/host"
)

func loaded(b *testing.B, pool int) *host.Plugin {
	ctx := context.Background()
	p, err := host.Load(ctx, guest(b), host.WithPoolSize(pool), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close(ctx) })
	if err := p.Configure(ctx, []byte("ok")); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkInstantiate measures a fresh VM: instantiate, _initialize, root
// context, vm start and configure (Configure runs exactly one canary VM).
func BenchmarkInstantiate(b *testing.B) {
	p := loaded(b, 1)
	ctx := context.Background()
	for b.Loop() {
		if err := p.Configure(ctx, []byte("ok")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStream measures one stream: context create, request headers, done/log/delete.
func BenchmarkStream(b *testing.B) {
	p := loaded(b, 1)
	ctx := context.Background()
	hs := [][2]string{{":method", "GET"}, {":path", "/a"}, {"authorization", "Bearer x"}}
	for b.Loop() {
		s, err := p.NewStream(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.RequestHeaders(hs, true); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkHostToGuestCall measures one proxy_on_request_headers call on an
// open stream: the guest reads a header through the host (one allocation
// callback) and adds one.
func BenchmarkHostToGuestCall(b *testing.B) {
	p := loaded(b, 1)
	s, err := p.NewStream(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	hs := [][2]string{{":method", "GET"}, {":path", "/a"}}
	for b.Loop() {
		if _, err := s.RequestHeaders(hs, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMiddleware measures a request through Middleware to a no-op handler.
func BenchmarkMiddleware(b *testing.B) {
	p := loaded(b, 2)
	h := p.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/a", nil)
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
