package host_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/testhost"
)

func Example() {
	wasm := testhost.Build(&testingStub{}, guestPkg)
	ctx := context.Background()
	p, err := host.Load(ctx, wasm, host.WithPoolSize(2), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(ctx)
	if err := p.Configure(ctx, []byte(`ok`)); err != nil {
		fmt.Println(err)
		return
	}
	h := p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream saw x-seen=%s", r.Header.Get("x-seen"))
	}))
	for _, path := range []string{"/hello", "/deny"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 upstream saw x-seen=/hello
	// 403 {"error":"denied"}
}

// testingStub lets the example use testhost.Build outside a test function.
type testingStub struct{ testing.TB }

func (*testingStub) Helper() {}
func (*testingStub) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
	os.Exit(1)
}

// A stream driven callback by callback: the conformance guest buffers the
// request body until it ends, then edits it with proxy_set_buffer_bytes.
func ExamplePlugin_NewStream() {
	wasm := testhost.Build(&testingStub{}, conformancePkg)
	ctx := context.Background()
	p, err := host.Load(ctx, wasm, host.WithLogger(slog.New(slog.DiscardHandler)),
		host.WithVMConfiguration([]byte("now=0")), host.WithEnv(map[string]string{"CONFORMANCE_ENV": "yes"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(ctx)
	if err := p.Configure(ctx, []byte("ok")); err != nil {
		fmt.Println(err)
		return
	}
	s, err := p.NewStream(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	s.RequestHeaders([][2]string{{":method", "POST"}, {":path", "/body"}}, false)
	first, _ := s.RequestBody([]byte("hel"), false)
	last, _ := s.RequestBody([]byte("lo"), true)
	fmt.Printf("paused=%v then body=%q\n", first.Paused, last.Body)
	// Output:
	// paused=true then body="[llo>"
}

// Ticks driven by hand with WithManualTicks and a fake clock.
func ExamplePlugin_Tick() {
	wasm := testhost.Build(&testingStub{}, conformancePkg)
	ctx := context.Background()
	now := time.Unix(0, 0)
	p, err := host.Load(ctx, wasm, host.WithManualTicks(), host.WithClock(func() time.Time { return now }),
		host.WithLogger(slog.New(slog.DiscardHandler)), host.WithVMID("example-ticks"),
		host.WithVMConfiguration([]byte("now=0")), host.WithEnv(map[string]string{"CONFORMANCE_ENV": "yes"}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(ctx)
	if err := p.Configure(ctx, []byte("tick")); err != nil { // the guest asks for a tick every second
		fmt.Println(err)
		return
	}
	for _, step := range []time.Duration{500 * time.Millisecond, 500 * time.Millisecond} {
		now = now.Add(step)
		n, _ := p.Tick(ctx)
		fmt.Println("ticks delivered:", n)
	}
	fmt.Println("ticks metric:", p.Metrics()["ticks"])
	// Output:
	// ticks delivered: 0
	// ticks delivered: 1
	// ticks metric: 1
}

// Two plugins that share their shared data, as two VMs with one vm_id in
// one Envoy do: the sharer guest counts requests in shared data.
func ExampleWithSharedState() {
	wasm := testhost.Build(&testingStub{}, sharerPkg)
	ctx := context.Background()
	state := host.NewShared()
	for _, name := range []string{"a", "b"} {
		p, err := host.Load(ctx, wasm, host.WithSharedState(state), host.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer p.Close(ctx)
		if err := p.Configure(ctx, nil); err != nil {
			fmt.Println(err)
			return
		}
		s, err := p.NewStream(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		s.RequestHeaders([][2]string{{":method", "GET"}, {":path", "/"}}, true)
		fmt.Println(name, s.Logs())
		s.Close()
	}
	// Output:
	// a [hits=1 queue=registered]
	// b [hits=2 queue=found]
}
