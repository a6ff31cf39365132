package testhost

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
)

// Option configures New.
type Option func(*options)

type options struct {
	wasm  []byte
	clock func() time.Time
	host  []host.Option
}

// WithClock sets the clock the plugin sees.
func WithClock(f func() time.Time) Option { return func(o *options) { o.clock = f } }

// WithWasm runs the given module instead of the tokengate plugin.
func WithWasm(b []byte) Option { return func(o *options) { o.wasm = b } }

// WithHostOption passes an option through to host.Load.
func WithHostOption(opt host.Option) Option { return func(o *options) { o.host = append(o.host, opt) } }

// Host is a configured plugin ready for requests.
type Host struct {
	p   *host.Plugin
	log *lineLog
}

// Request is one HTTP request. Method defaults to GET, Path to "/" and
// Authority (the :authority pseudo-header) to example.test; :scheme is https.
type Request struct {
	Method    string
	Path      string
	Authority string
	Headers   [][2]string
	// Body, when set, is offered to the plugin's request-body callback as
	// one chunk that ends the stream.
	Body []byte
}

// Response is what the plugin did with a request.
type Response struct {
	// Continued reports that the request would go upstream with Headers
	// (and ForwardedBody, when the request had a body).
	Continued     bool
	Headers       [][2]string
	ForwardedBody []byte
	// Status, ResponseHeaders and Body describe the local response otherwise.
	Status          int
	ResponseHeaders [][2]string
	Body            []byte
	// Logs are the lines the plugin logged while handling this request.
	Logs []string
	// FilterState holds the properties the plugin set on the request, by
	// the name Envoy's filter state gives them ("wasm.tokengate.sub").
	FilterState map[string]string
}

// Header returns the first value of name among the response headers.
func (r Response) Header(name string) string {
	for _, h := range r.ResponseHeaders {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// New loads the plugin and configures it; the test fails if it refuses.
func New(t testing.TB, config string, opts ...Option) *Host {
	t.Helper()
	h, err, logs := load(t, config, opts)
	if err != nil {
		t.Fatalf("testhost: plugin refused the configuration: %v\nplugin log:\n%s", err, joinLines(logs))
	}
	return h
}

// Refused loads the plugin with a configuration it must refuse and returns
// its log; the test fails if the plugin accepts it.
func Refused(t testing.TB, config string, opts ...Option) []string {
	t.Helper()
	_, err, logs := load(t, config, opts)
	if err == nil {
		t.Fatalf("testhost: plugin accepted a configuration it should refuse: %s", config)
	}
	return logs
}

func load(t testing.TB, config string, opts []Option) (*Host, error, []string) {
	t.Helper()
	o := options{}
	for _, f := range opts {
		f(&o)
	}
	if o.wasm == nil {
		o.wasm = Wasm(t)
	}
	ll := &lineLog{}
	// Like Envoy, offer the verify_signature foreign function.
	hopts := append([]host.Option{host.WithPoolSize(1), host.WithLogger(slog.New(ll)), host.WithManualTicks(),
		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature)}, o.host...)
	if o.clock != nil {
		hopts = append(hopts, host.WithClock(o.clock))
	}
	ctx := context.Background()
	p, err := host.Load(ctx, o.wasm, hopts...)
	if err != nil {
		t.Fatalf("testhost: loading the plugin failed: %v", err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	if err := p.Configure(ctx, []byte(config)); err != nil {
		return nil, err, ll.take()
	}
	ll.take()
	return &Host{p: p, log: ll}, nil, nil
}

// Plugin returns the underlying host plugin, for metrics or reconfiguration.
func (h *Host) Plugin() *host.Plugin { return h.p }

// Do runs one request's headers through the plugin.
func (h *Host) Do(t testing.TB, r Request) Response {
	t.Helper()
	if r.Method == "" {
		r.Method = "GET"
	}
	if r.Path == "" {
		r.Path = "/"
	}
	if r.Authority == "" {
		r.Authority = "example.test"
	}
	s, err := h.p.NewStream(context.Background())
	if err != nil {
		t.Fatalf("testhost: cannot start a stream: %v", err)
	}
	s.SetConnection(host.Connection{Source: netip.MustParseAddrPort("192.0.2.10:50000"),
		Destination: netip.MustParseAddrPort("192.0.2.1:443"), TLS: true, Protocol: "HTTP/1.1"})
	hs := append([][2]string{{":method", r.Method}, {":path", r.Path}, {":authority", r.Authority}, {":scheme", "https"}}, r.Headers...)
	res, err := s.RequestHeaders(hs, r.Body == nil)
	var body host.Result
	if err == nil && r.Body != nil && res.Local == nil && !res.Paused && !res.Reset {
		body, err = s.RequestBody(r.Body, true)
		if body.Local != nil || body.Paused || body.Reset {
			res.Local, res.Paused, res.Reset = body.Local, body.Paused, body.Reset
		}
	}
	state := s.FilterState()
	cerr := s.Close()
	if err != nil {
		t.Fatalf("testhost: plugin failed on the request: %v\nplugin log:\n%s", err, joinLines(h.log.take()))
	}
	if cerr != nil {
		t.Fatalf("testhost: plugin failed closing the stream: %v", cerr)
	}
	out := Response{Logs: h.log.take(), FilterState: state}
	switch {
	case res.Local != nil:
		out.Status, out.ResponseHeaders, out.Body = res.Local.Status, res.Local.Headers, res.Local.Body
	case res.Paused:
		t.Fatalf("testhost: plugin paused the request without answering it\nplugin log:\n%s", joinLines(out.Logs))
	case res.Reset:
		t.Fatalf("testhost: plugin reset the stream (proxy_close_stream)\nplugin log:\n%s", joinLines(out.Logs))
	default:
		out.Continued, out.Headers, out.ForwardedBody = true, res.Headers, body.Body
	}
	return out
}

// Tick delivers the plugin's due proxy_on_tick calls at its clock (the
// harness never ticks by itself: advance the clock given to WithClock, then
// call Tick) and returns how many ran and what they logged.
func (h *Host) Tick(t testing.TB) (int, []string) {
	t.Helper()
	n, err := h.p.Tick(context.Background())
	if err != nil {
		t.Fatalf("testhost: delivering ticks: %v", err)
	}
	return n, h.log.take()
}

func joinLines(l []string) string {
	s := ""
	for _, x := range l {
		s += "  " + x + "\n"
	}
	return s
}

// lineLog is a slog.Handler that keeps message lines.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *lineLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.lines = append(l.lines, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *lineLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lineLog) WithGroup(string) slog.Handler      { return l }
func (l *lineLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}
