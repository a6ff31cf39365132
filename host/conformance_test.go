package host_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/envoyabi"
	"github.com/tokengate/tokengate/testhost"
)

const conformancePkg = "github.com/tokengate/tokengate/host/testdata/conformance"

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// recorder is a slog.Handler that keeps every message.
type recorder struct {
	mu    sync.Mutex
	lines []string
	all   []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.lines = append(r.lines, rec.Message)
	r.all = append(r.all, rec.Message)
	r.mu.Unlock()
	return nil
}

// take returns the lines logged since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.lines
	r.lines = nil
	return l
}

// waitFor polls the whole log until a line contains sub.
func (r *recorder) waitFor(t *testing.T, sub string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		seen := append([]string(nil), r.all...)
		r.mu.Unlock()
		if has(seen, sub) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line contains %q; got %q", sub, seen)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// passed fails the test on every FAIL line the guest logged and returns
// how many checks it reported.
func passed(t *testing.T, lines []string) int {
	t.Helper()
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "FAIL ") {
			t.Error(l)
		}
		if c, ok := strings.CutPrefix(l, "checks "); ok {
			k, _ := strconv.Atoi(c)
			n += k
		}
	}
	return n
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, network, name string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range f[name] {
		if (network == "ip6") == a.Is6() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return out, nil
}

// conformance is a loaded conformance guest with its surroundings.
type conformance struct {
	p     *host.Plugin
	log   *recorder
	clock *fakeClock
}

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func backend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Trailer", "X-Resp-Trailer")
		w.Header().Set("X-Echo", r.Method+":"+r.URL.RequestURI()+":"+r.Host+":"+r.Header.Get("x-req")+":"+string(body)+":"+r.Trailer.Get("x-req-trailer"))
		io.WriteString(w, "pong")
		w.Header().Set("X-Resp-Trailer", "done")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func slowBackend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func loadConformance(t *testing.T, config string, extra ...host.Option) *conformance {
	t.Helper()
	c := &conformance{log: &recorder{}, clock: &fakeClock{now: epoch}}
	opts := []host.Option{
		host.WithPoolSize(1), host.WithLogger(slog.New(c.log)), host.WithClock(c.clock.Now), host.WithManualTicks(),
		host.WithPluginName("conformance"), host.WithRootID("conformance-root"), host.WithVMID("conformance-" + t.Name()),
		host.WithVMConfiguration([]byte("now=" + strconv.FormatInt(epoch.UnixNano(), 10))),
		host.WithLogLevel(1), host.WithEnv(map[string]string{"CONFORMANCE_ENV": "yes"}),
		host.WithForeignFunction("echo", func(b []byte) ([]byte, error) { return b, nil }),
		host.WithForeignFunction("fails", func([]byte) ([]byte, error) { return nil, errors.New("refused") }),
		host.WithUpstream("backend", backend(t).URL),
		host.WithUpstream("slow", slowBackend(t).URL),
		host.WithUpstream("down", closedPort(t)),
		host.WithResolver(fakeResolver{"svc.test": {netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("192.0.2.8")}}),
	}
	ctx := context.Background()
	p, err := host.Load(ctx, testhost.Build(t, conformancePkg), append(opts, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	c.p = p
	if err := p.Configure(ctx, []byte(config)); err != nil {
		t.Fatalf("configure %q: %v\nlog: %q", config, err, c.log.take())
	}
	return c
}

// exchange drives one stream through the callbacks a case asks for.
type exchange struct {
	path     string
	headers  [][2]string
	body     []string // request body chunks; the last one ends the stream
	trailers [][2]string
	respond  bool // run response headers, body "payload" and trailers
}

type outcome struct {
	req, resp, reqTrailers, respTrailers host.Result
	body, respBody                       []byte
	err                                  error
}

func (c *conformance) run(t *testing.T, x exchange) outcome {
	t.Helper()
	s, err := c.p.NewStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetConnection(host.Connection{Source: netip.MustParseAddrPort("192.0.2.1:40000"), Protocol: "HTTP/1.1"})
	hs := append([][2]string{{":method", "GET"}, {":path", x.path}, {":authority", "example.test"}, {":scheme", "https"}}, x.headers...)
	var o outcome
	if o.req, o.err = s.RequestHeaders(hs, len(x.body) == 0); o.err != nil || o.req.Local != nil || o.req.Paused || o.req.Reset {
		return o
	}
	for i, chunk := range x.body {
		r, err := s.RequestBody([]byte(chunk), i == len(x.body)-1 && len(x.trailers) == 0)
		if err != nil {
			o.err = err
			return o
		}
		o.body = append(o.body, r.Body...)
	}
	if len(x.trailers) > 0 {
		if o.reqTrailers, o.err = s.RequestTrailers(x.trailers); o.err != nil {
			return o
		}
		o.body = append(o.body, o.reqTrailers.Body...)
	}
	if !x.respond {
		return o
	}
	if o.resp, o.err = s.ResponseHeaders([][2]string{{":status", "200"}, {"content-type", "text/plain"}}, false); o.err != nil || o.resp.Local != nil {
		return o
	}
	for i, chunk := range []string{"pay", "load"} {
		r, err := s.ResponseBody([]byte(chunk), i == 1)
		if err != nil {
			o.err = err
			return o
		}
		o.respBody = append(o.respBody, r.Body...)
	}
	o.respTrailers, o.err = s.ResponseTrailers([][2]string{{"x-upstream-trailer", "1"}})
	return o
}

func header(hs [][2]string, k string) string {
	for _, h := range hs {
		if h[0] == k {
			return h[1]
		}
	}
	return ""
}

func TestConformanceEveryHostFunction(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "ok")
	if n := passed(t, c.log.take()); n < 130 {
		t.Errorf("the root context reported %d checks; the guest did not run them all", n)
	}
	tests := []struct {
		name  string
		x     exchange
		check func(t *testing.T, o outcome)
	}{
		{
			name: "request headers read, mutate and serialise as pairs",
			x:    exchange{path: "/headers", headers: [][2]string{{"x-one", "1"}, {"x-empty", ""}, {"x-gone", "bye"}}},
			check: func(t *testing.T, o outcome) {
				h := o.req.Headers
				if header(h, "x-add") != "a" || header(h, "x-one") != "2" || header(h, "x-gone") != "" {
					t.Errorf("forwarded headers %q", h)
				}
			},
		},
		{
			name: "set_header_map_pairs replaces the map",
			x:    exchange{path: "/setpairs"},
			check: func(t *testing.T, o outcome) {
				if !slices.Equal(o.req.Headers, [][2]string{{":path", "/rewritten"}, {"x-new", "v"}}) {
					t.Errorf("headers %q", o.req.Headers)
				}
			},
		},
		{
			name: "a malformed pairs buffer clears the map as Envoy does",
			x:    exchange{path: "/malformed"},
			check: func(t *testing.T, o outcome) {
				if len(o.req.Headers) != 0 {
					t.Errorf("headers %q", o.req.Headers)
				}
			},
		},
		{
			name: "a local response wins over Continue",
			x:    exchange{path: "/local"},
			check: func(t *testing.T, o outcome) {
				l := o.req.Local
				if l == nil || l.Status != 418 || string(l.Body) != "short and stout" || header(l.Headers, "x-teapot") != "yes" ||
					l.Details != "conformance" || l.GRPCStatus != -1 {
					t.Errorf("local response %+v", l)
				}
			},
		},
		{
			name:  "close_stream resets the exchange",
			x:     exchange{path: "/close"},
			check: func(t *testing.T, o outcome) { expect(t, o.req.Reset, "not reset: %+v", o.req) },
		},
		{
			name:  "a pause with nothing in flight is reported",
			x:     exchange{path: "/pause"},
			check: func(t *testing.T, o outcome) { expect(t, o.req.Paused, "not paused: %+v", o.req) },
		},
		{
			name: "body buffering and set_buffer_bytes follow Envoy, and the response passes through",
			x:    exchange{path: "/body", body: []string{"hel", "lo"}, respond: true},
			check: func(t *testing.T, o outcome) {
				// "hello" -> "<hello" -> "<hello>" -> drop 3, prepend "[" -> "[llo>"
				expect(t, string(o.body) == "[llo>", "request body %q", o.body)
				expect(t, header(o.resp.Headers, "x-resp") == "/body", "response headers %q", o.resp.Headers)
				expect(t, string(o.respBody) == "filtered:payload", "response body %q", o.respBody)
				expect(t, header(o.respTrailers.Headers, "x-rt") == "1", "response trailers %q", o.respTrailers.Headers)
			},
		},
		{
			name: "trailers end the stream and release a buffered body",
			x:    exchange{path: "/trailers", body: []string{"hel", "lo"}, trailers: [][2]string{{"x-checksum", "abc"}}},
			check: func(t *testing.T, o outcome) {
				expect(t, string(o.body) == "hello", "request body %q", o.body)
				expect(t, header(o.reqTrailers.Headers, "x-trailer-seen") == "1", "request trailers %q", o.reqTrailers.Headers)
			},
		},
		{
			name: "an HTTP call's response reaches the root context and resumes the stream",
			x:    exchange{path: "/callout"},
			check: func(t *testing.T, o outcome) {
				want := "200 POST:/data?x=1:backend.test:r:ping:t pong"
				expect(t, o.err == nil && header(o.req.Headers, "x-callout") == want, "x-callout %q (err %v), want %q",
					header(o.req.Headers, "x-callout"), o.err, want)
			},
		},
		{
			name: "a failed HTTP call is delivered with zero headers",
			x:    exchange{path: "/callout-down"},
			check: func(t *testing.T, o outcome) {
				expect(t, o.req.Local != nil && o.req.Local.Status == 502, "result %+v", o.req)
			},
		},
		{
			name: "an HTTP call past its timeout fails",
			x:    exchange{path: "/callout-slow"},
			check: func(t *testing.T, o outcome) {
				expect(t, o.req.Local != nil && o.req.Local.Status == 504, "result %+v", o.req)
			},
		},
		{
			name: "envoy_resolve_dns answers in buffer 8 with Envoy's layout",
			x:    exchange{path: "/dns"},
			check: func(t *testing.T, o outcome) {
				expect(t, header(o.req.Headers, "x-dns") == "192.0.2.7:0,192.0.2.8:0", "x-dns %q", header(o.req.Headers, "x-dns"))
			},
		},
		{
			name: "a failed lookup is reported with size 0",
			x:    exchange{path: "/dns-fail"},
			check: func(t *testing.T, o outcome) {
				expect(t, o.req.Local != nil && o.req.Local.Status == 503, "result %+v", o.req)
			},
		},
		{
			name:  "allowed calls during proxy_on_memory_allocate do not trap",
			x:     exchange{path: "/alloc-probe"},
			check: func(t *testing.T, o outcome) { expect(t, o.err == nil, "error %v", o.err) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := c.run(t, tc.x)
			tc.check(t, o)
			passed(t, c.log.take())
		})
	}
	t.Run("every host function of Envoy's list was called and checked", func(t *testing.T) {
		c.run(t, exchange{path: "/report"})
		var covered []string
		for _, l := range c.log.take() {
			if s, ok := strings.CutPrefix(l, "covered "); ok {
				covered = strings.Split(s, ",")
			}
		}
		for _, name := range listNames() {
			if !slices.Contains(covered, name) {
				t.Errorf("the conformance guest never checked %s", name)
			}
		}
	})
}

func expect(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
}

// listNames are the names of Envoy's host functions (internal/envoyabi),
// which the conformance guest must each call and check.
func listNames() []string {
	var names []string
	for _, f := range envoyabi.Newest().Funcs {
		names = append(names, f.Name)
	}
	return names
}

func TestConformanceQueueNotifiesTheRegistrantAfterTheCallback(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "ok")
	c.log.take()
	o := c.run(t, exchange{path: "/enqueue"})
	if o.err != nil {
		t.Fatal(o.err)
	}
	c.log.waitFor(t, "queue ready: msg-")
	if got := c.p.Metrics()["queue_ready"]; got != 1 {
		t.Errorf("queue_ready = %d, want 1", got)
	}
}

func TestConformanceTicksFollowThePluginClock(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "tick")
	ctx := context.Background()
	steps := []struct {
		advance time.Duration
		want    int
	}{{0, 0}, {999 * time.Millisecond, 0}, {time.Millisecond, 1}, {500 * time.Millisecond, 0}, {500 * time.Millisecond, 1}}
	for i, st := range steps {
		c.clock.Advance(st.advance)
		n, err := c.p.Tick(ctx)
		if err != nil || n != st.want {
			t.Fatalf("step %d: Tick = %d, %v; want %d", i, n, err, st.want)
		}
	}
	if got := c.p.Metrics()["ticks"]; got != 2 {
		t.Errorf("ticks metric = %d, want 2", got)
	}
	passed(t, c.log.take())
}

func TestConformanceTickLoopDrivesTicks(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "tick")
	// The host's own loop (no WithManualTicks) with the real clock.
	p, err := host.Load(context.Background(), testhost.Build(t, conformancePkg),
		host.WithPoolSize(1), host.WithLogger(slog.New(c.log)), host.WithVMID("conformance-loop-"+t.Name()),
		host.WithVMConfiguration([]byte("now=0")), host.WithEnv(map[string]string{"CONFORMANCE_ENV": "yes"}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if err := p.Configure(context.Background(), []byte("tick")); err != nil {
		t.Fatal(err)
	}
	c.log.waitFor(t, "tick 1")
}

func TestConformanceRestrictedCallbacksTrap(t *testing.T) {
	t.Parallel()
	t.Run("a forbidden call during _initialize fails the VM", func(t *testing.T) {
		ctx := context.Background()
		p, err := host.Load(ctx, testhost.Build(t, conformancePkg), host.WithLogger(slog.New(slog.DiscardHandler)),
			host.WithEnv(map[string]string{"CONFORMANCE_ENV": "yes", "CONFORMANCE_TRAP_INIT": "1"}), host.WithVMID("trap-init"))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(ctx)
		err = p.Configure(ctx, []byte("ok"))
		if err == nil || !strings.Contains(err.Error(), "restricted_callback") || !strings.Contains(err.Error(), "_initialize") {
			t.Fatalf("Configure error = %v, want a restricted_callback trap in _initialize", err)
		}
	})
	t.Run("a forbidden call during proxy_on_memory_allocate traps and the VM is replaced", func(t *testing.T) {
		c := loadConformance(t, "ok")
		o := c.run(t, exchange{path: "/alloc-breach"})
		if !errors.Is(o.err, host.ErrTrapped) || !strings.Contains(o.err.Error(), "restricted_callback") ||
			!strings.Contains(o.err.Error(), "proxy_on_memory_allocate") {
			t.Fatalf("error = %v, want a restricted_callback trap in proxy_on_memory_allocate", o.err)
		}
		if o := c.run(t, exchange{path: "/headers", headers: [][2]string{{"x-one", "1"}, {"x-empty", ""}, {"x-gone", "bye"}}}); o.err != nil {
			t.Fatalf("the next stream failed: %v", o.err)
		}
		passed(t, c.log.take())
	})
}

func TestReconfigurationKeepsTheVMAndItsState(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "ok")
	if o := c.run(t, exchange{path: "/enqueue"}); o.err != nil {
		t.Fatal(o.err)
	}
	if err := c.p.Configure(context.Background(), []byte("ok")); err != nil {
		t.Fatal(err)
	}
	// The canary is a fresh VM (its first vm_start); the serving VM gets a
	// second root context and keeps its package state.
	c.log.waitFor(t, "vm_start #2")
	c.log.waitFor(t, "root context deleted")
	if o := c.run(t, exchange{path: "/enqueue"}); o.err != nil {
		t.Fatalf("a request after reconfiguration failed: %v", o.err)
	}
	c.log.waitFor(t, "queue ready: msg-")
	passed(t, c.log.take())
}

func TestConformanceRetiredRootContextWaitsForProxyDone(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "linger")
	if err := c.p.Configure(context.Background(), []byte("ok")); err != nil {
		t.Fatal(err)
	}
	c.log.waitFor(t, "proxy_done ok")
	c.log.waitFor(t, "root context deleted")
	passed(t, c.log.take())
}
