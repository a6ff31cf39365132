package host_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/testhost"
)

// echo is an upstream that answers with what it received.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Trailer", "X-Up")
	w.Header().Set("X-Got-Body", string(body))
	w.Header().Set("X-Got-Trailer", r.Trailer.Get("X-Trailer-Seen"))
	w.Header().Set("X-Got-Callout", r.Header.Get("X-Callout"))
	io.WriteString(w, "payload")
	w.Header().Set("X-Up", "1")
})

func TestMiddlewareRunsEveryCallbackInEnvoysOrder(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "ok", host.WithMaxBodyBytes(64))
	h := c.p.Middleware(echo)
	tests := []struct {
		name, method, path, body string
		trailer                  http.Header
		code                     int
		check                    func(t *testing.T, res *http.Response, body string)
	}{
		{
			name: "request and response bodies and trailers pass through the plugin", method: "POST", path: "/body", body: "hello", code: 200,
			check: func(t *testing.T, res *http.Response, body string) {
				expect(t, res.Header.Get("X-Got-Body") == "[llo>", "upstream got body %q", res.Header.Get("X-Got-Body"))
				expect(t, res.Header.Get("X-Resp") == "/body", "x-resp %q", res.Header.Get("X-Resp"))
				expect(t, body == "filtered:payload", "response body %q", body)
				expect(t, res.Trailer.Get("X-Rt") == "1" && res.Trailer.Get("X-Up") == "1", "response trailers %v", res.Trailer)
			},
		},
		{
			name: "request trailers reach the plugin and the upstream", method: "POST", path: "/trailers", body: "hello",
			trailer: http.Header{"X-Checksum": {"abc"}}, code: 200,
			check: func(t *testing.T, res *http.Response, body string) {
				expect(t, res.Header.Get("X-Got-Body") == "hello", "upstream got body %q", res.Header.Get("X-Got-Body"))
				expect(t, res.Header.Get("X-Got-Trailer") == "1", "upstream got trailer %q", res.Header.Get("X-Got-Trailer"))
			},
		},
		{
			name: "a local response from the headers callback never reaches the upstream", method: "GET", path: "/local", code: 418,
			check: func(t *testing.T, res *http.Response, body string) {
				expect(t, body == "short and stout" && res.Header.Get("X-Teapot") == "yes", "local response %q %v", body, res.Header)
			},
		},
		{
			name: "a paused request resumes when the HTTP call answers", method: "GET", path: "/callout", code: 200,
			check: func(t *testing.T, res *http.Response, body string) {
				expect(t, strings.HasPrefix(res.Header.Get("X-Got-Callout"), "200 POST:/data"), "x-callout %q", res.Header.Get("X-Got-Callout"))
			},
		},
		{
			name: "a pause nobody resumes fails closed", method: "GET", path: "/pause", code: 500,
		},
		{
			name: "a body over the buffering limit is refused with 413", method: "POST", path: "/body", body: strings.Repeat("x", 100), code: 413,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rd io.Reader
			if tc.body != "" {
				rd = strings.NewReader(tc.body)
			}
			req := httptest.NewRequest(tc.method, tc.path, rd)
			if tc.trailer != nil {
				req.ContentLength = -1
				req.Trailer = tc.trailer
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.code {
				t.Fatalf("status %d, want %d (body %q)", res.StatusCode, tc.code, body)
			}
			if tc.check != nil {
				tc.check(t, res, string(body))
			}
			c.log.take()
		})
	}
}

func TestMiddlewareOverARealConnection(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "ok")
	srv := httptest.NewServer(c.p.Middleware(echo))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/trailers", io.NopCloser(strings.NewReader("hello")))
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Checksum": {"abc"}}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("X-Got-Trailer") != "1" || res.Header.Get("X-Got-Body") != "hello" {
		t.Fatalf("%d %v %q", res.StatusCode, res.Header, body)
	}
	passed(t, c.log.take())
}

func TestMiddlewareInFrontOfAReverseProxy(t *testing.T) {
	t.Parallel()
	c := loadConformance(t, "ok")
	up := httptest.NewServer(echo)
	defer up.Close()
	u, _ := url.Parse(up.URL)
	srv := httptest.NewServer(c.p.Middleware(httputil.NewSingleHostReverseProxy(u)))
	defer srv.Close()
	for range 5 {
		res, err := srv.Client().Post(srv.URL+"/body", "text/plain", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("X-Got-Body") != "[llo>" || string(body) != "filtered:payload" {
			t.Fatalf("%d %q %q", res.StatusCode, res.Header.Get("X-Got-Body"), body)
		}
	}
	passed(t, c.log.take())
}

// TestMiddlewareRemovesHopByHopHeadersBeforeThePlugin: a client that names
// the header the plugin sets (x-seen) in Connection must not make the
// reverse proxy behind the middleware delete it, and its forged copy must
// not reach the upstream either.
func TestMiddlewareRemovesHopByHopHeadersBeforeThePlugin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, err := host.Load(ctx, testhost.Build(t, "github.com/tokengate/tokengate/host/testdata/guest"),
		host.WithPoolSize(1), host.WithLogger(slog.New(slog.DiscardHandler)), host.WithVMID("hop-"+t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	if err := p.Configure(ctx, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "x-seen=%q keep-alive=%q proxy-authorization=%q", r.Header.Values("X-Seen"), r.Header.Values("Keep-Alive"), r.Header.Values("Proxy-Authorization"))
	}))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	srv := httptest.NewServer(p.Middleware(httputil.NewSingleHostReverseProxy(u)))
	defer srv.Close()
	tests := []struct {
		name    string
		headers http.Header
	}{
		{name: "a forged header named in Connection is replaced by the plugin's", headers: http.Header{"Connection": {"X-Seen"}, "X-Seen": {"forged"}}},
		{name: "a header named in Connection among others", headers: http.Header{"Connection": {"keep-alive, x-seen"}, "Keep-Alive": {"timeout=5"}}},
		{name: "a header named in a second Connection line", headers: http.Header{"Connection": {"keep-alive", "X-Seen"}, "Proxy-Authorization": {"Basic eDp5"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/x", nil)
			req.Header = tt.headers
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if want := `x-seen=["/x"] keep-alive=[] proxy-authorization=[]`; res.StatusCode != 200 || string(body) != want {
				t.Fatalf("upstream got %d %s, want %s", res.StatusCode, body, want)
			}
		})
	}
}

// vmIdle reports whether p (a pool of one VM) has its VM idle: a stream
// whose context has already ended is granted only a VM that need not be
// waited for.
func vmIdle(p *host.Plugin) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := p.NewStream(ctx)
	if err != nil {
		return false
	}
	s.Close()
	return true
}

func loadPoolOfOne(t *testing.T, wasm []byte, config string) *host.Plugin {
	t.Helper()
	ctx := context.Background()
	p, err := host.Load(ctx, wasm, host.WithPoolSize(1), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	if err := p.Configure(ctx, []byte(config)); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMiddlewareHoldsTheVMOnlyWhileThePluginNeedsIt: a module that exports
// no response callback and no proxy_on_log is done with a stream once it
// has passed the request (headers, and the body if it filters bodies), so
// its VM serves other requests while the upstream works; a module that
// filters responses keeps its VM until the response is over.
func TestMiddlewareHoldsTheVMOnlyWhileThePluginNeedsIt(t *testing.T) {
	t.Parallel()
	guestOnly := func(t *testing.T) *host.Plugin { return loadPoolOfOne(t, guest(t), "ok") }
	requestBody := func(t *testing.T) *host.Plugin {
		return loadPoolOfOne(t, testhost.Build(t, "github.com/tokengate/tokengate/host/testdata/requestbody"), "")
	}
	conformanceGuest := func(t *testing.T) *host.Plugin { return loadConformance(t, "ok").p }
	tests := []struct {
		name           string
		load           func(t *testing.T) *host.Plugin
		method, body   string
		idleBeforeBody bool // when the upstream starts
		idleAfterBody  bool // once the upstream has read the request body
	}{
		{name: "a module with request headers only frees the VM before the upstream runs",
			load: guestOnly, method: "GET", idleBeforeBody: true, idleAfterBody: true},
		{name: "a module filtering request bodies frees the VM once a bodiless request has passed",
			load: requestBody, method: "GET", idleBeforeBody: true, idleAfterBody: true},
		{name: "a module filtering request bodies keeps the VM until the body has passed through it",
			load: requestBody, method: "POST", body: "hello", idleBeforeBody: false, idleAfterBody: true},
		{name: "a module filtering responses keeps the VM while the upstream runs",
			load: conformanceGuest, method: "GET", idleBeforeBody: false, idleAfterBody: false},
		{name: "a module filtering responses keeps the VM after the request body too",
			load: conformanceGuest, method: "POST", body: "hello", idleBeforeBody: false, idleAfterBody: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.load(t)
			var before, after bool
			var got []byte
			srv := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				before = vmIdle(p)
				got, _ = io.ReadAll(r.Body)
				after = vmIdle(p)
			})))
			defer srv.Close()
			req, _ := http.NewRequest(tc.method, srv.URL+"/x", strings.NewReader(tc.body))
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("status %d, want 200", res.StatusCode)
			}
			if tc.body != "" && len(got) == 0 {
				t.Fatalf("the upstream read no body, want %q", tc.body)
			}
			if before != tc.idleBeforeBody || after != tc.idleAfterBody {
				t.Errorf("VM idle when the upstream started: %v, after it read the body: %v; want %v, %v",
					before, after, tc.idleBeforeBody, tc.idleAfterBody)
			}
			if !vmIdle(p) {
				t.Error("the VM is still busy after the exchange")
			}
		})
	}
}

// TestMiddlewareServesConcurrentSlowRequestsWithOneVM: eight requests are
// held in the upstream until all eight have arrived. With a pool of one VM
// that only happens if no request keeps the VM while the upstream works.
func TestMiddlewareServesConcurrentSlowRequestsWithOneVM(t *testing.T) {
	t.Parallel()
	const n = 8
	p := loadPoolOfOne(t, guest(t), "ok")
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	srv := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if arrived++; arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			io.WriteString(w, r.Header.Get("X-Seen"))
		case <-r.Context().Done():
		}
	})))
	defer srv.Close()
	// The deadline only turns a regression (requests queued behind the VM
	// forever) into a failure instead of a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, n)
	for i := range n {
		go func() {
			path := fmt.Sprintf("/r%d", i)
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
			res, err := srv.Client().Do(req)
			if err != nil {
				errs <- fmt.Errorf("%s: %w (requests waited for the one VM: it was held during the upstream)", path, err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(body) != path {
				err = fmt.Errorf("%s: %d %q, want 200 and the path the plugin saw", path, res.StatusCode, body)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
