package host_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/testhost"
)

const guestPkg = "github.com/tokengate/tokengate/host/testdata/guest"

func guest(t testing.TB) []byte { return testhost.Build(t, guestPkg) }

func has(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func TestGuestRequests(t *testing.T) {
	t.Parallel()
	th := testhost.New(t, "ok", testhost.WithWasm(guest(t)), testhost.WithHostOption(host.WithPluginName("demo")))
	tests := []struct {
		name, path string
		continued  bool
		status     int
		logNot     string
		logHas     string
	}{
		{name: "a plain request continues with an added header", path: "/a", continued: true},
		{name: "a denied request gets the plugin's local response", path: "/deny", status: 403},
		{name: "an empty header value comes back as pointer 0 size 0", path: "/empty", continued: true, logNot: "empty value"},
		{name: "shared data rejects a stale CAS", path: "/cas", continued: true, logNot: "CAS misbehaved"},
		{name: "plugin_name property is served", path: "/prop", continued: true, logHas: "plugin_name=demo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := th.Do(t, testhost.Request{Path: tc.path, Headers: [][2]string{{"x-empty", ""}}})
			if res.Continued != tc.continued {
				t.Fatalf("continued = %v, want %v (logs %q)", res.Continued, tc.continued, res.Logs)
			}
			if tc.continued {
				found := false
				for _, h := range res.Headers {
					found = found || (h[0] == "x-seen" && h[1] == tc.path)
				}
				if !found {
					t.Errorf("x-seen header missing from %q", res.Headers)
				}
			} else if res.Status != tc.status || res.Header("content-type") != "application/json" || !strings.Contains(string(res.Body), "denied") {
				t.Errorf("local response = %d %q %q", res.Status, res.ResponseHeaders, res.Body)
			}
			if tc.logNot != "" && has(res.Logs, tc.logNot) {
				t.Errorf("guest reported a failure: %q", res.Logs)
			}
			if tc.logHas != "" && !has(res.Logs, tc.logHas) {
				t.Errorf("log %q lacks %q", res.Logs, tc.logHas)
			}
		})
	}
	if got := th.Plugin().Metrics()["requests"]; got != int64(len(tests)) {
		t.Errorf("requests metric = %d, want %d", got, len(tests))
	}
}

func TestRefusedConfigurationKeepsTheOldOne(t *testing.T) {
	t.Parallel()
	logs := testhost.Refused(t, "reject", testhost.WithWasm(guest(t)))
	if !has(logs, "configuration rejected") {
		t.Errorf("refusal log = %q", logs)
	}
	ctx := context.Background()
	p, err := host.Load(ctx, guest(t), host.WithPoolSize(2), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if err := p.Configure(ctx, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(ctx, []byte("reject")); err == nil {
		t.Fatal("Configure accepted a configuration the plugin refused")
	}
	s, err := p.NewStream(ctx)
	if err != nil {
		t.Fatalf("old configuration stopped serving: %v", err)
	}
	s.Close()
}

func TestTrapFailsClosedAndReplacesTheVM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, failOpen := range []bool{false, true} {
		p, err := host.Load(ctx, guest(t), host.WithPoolSize(1), host.WithFailOpen(failOpen), host.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(ctx)
		if err := p.Configure(ctx, []byte("ok")); err != nil {
			t.Fatal(err)
		}
		h := p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "upstream "+r.Header.Get("x-seen"))
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/trap", nil))
		want := 500
		if failOpen {
			want = 200
		}
		if rec.Code != want {
			t.Errorf("fail-open=%v: trap answered %d, want %d", failOpen, rec.Code, want)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/after", nil))
		if rec.Code != 200 || rec.Body.String() != "upstream /after" {
			t.Errorf("after a trap: %d %q", rec.Code, rec.Body.String())
		}
	}
}

func TestRestrictedCallbackDuringAllocationTraps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, err := host.Load(ctx, guest(t), host.WithPoolSize(1), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if err := p.Configure(ctx, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	s, err := p.NewStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RequestHeaders([][2]string{{":method", "GET"}, {":path", "/restricted"}}, true)
	s.Close()
	if !errors.Is(err, host.ErrTrapped) || !strings.Contains(err.Error(), "restricted_callback") {
		t.Fatalf("error = %v, want a restricted_callback trap", err)
	}
}

func TestReconfigureUnderLoadFailsNoRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, err := host.Load(ctx, guest(t), host.WithPoolSize(2), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	if err := p.Configure(ctx, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	h := p.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	done := make(chan int)
	for range 2 {
		go func() {
			bad := 0
			for range 20 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
				if rec.Code != 200 {
					bad++
				}
			}
			done <- bad
		}()
	}
	for i := range 3 {
		if err := p.Configure(ctx, []byte("ok")); err != nil {
			t.Errorf("reconfiguration %d: %v", i, err)
		}
	}
	if bad := <-done + <-done; bad != 0 {
		t.Errorf("%d requests failed during reconfiguration", bad)
	}
}
