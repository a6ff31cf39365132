package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/testhost"
)

// TestProxyForwardsEveryPathAndServesAdminSeparately: the proxied handler
// answers nothing itself, /healthz and /metrics included (they go through
// the plugin to the upstream); health, readiness and metrics are on the
// admin handler only.
func TestProxyForwardsEveryPathAndServesAdminSeparately(t *testing.T) {
	ctx := context.Background()
	wasm := testhost.Build(t, "github.com/tokengate/tokengate/host/testdata/guest")
	p, err := host.Load(ctx, wasm, host.WithPoolSize(1), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up:"+r.Header.Get("x-seen")) })
	x := newProxy(p, up, slog.New(slog.DiscardHandler))
	admin := x.adminHandler()
	get := func(h http.Handler, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if c, _ := get(admin, "/readyz"); c != 503 {
		t.Errorf("readyz before configuration = %d, want 503", c)
	}
	if err := x.Configure(ctx, []byte("reject")); err == nil {
		t.Fatal("a refused configuration was reported as applied")
	}
	if err := x.Configure(ctx, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		handler http.Handler
		path    string
		code    int
		body    string
	}{
		{"allowed requests reach upstream", x, "/x", 200, "up:/x"},
		{"denied requests get the plugin's answer", x, "/deny", 403, `{"error":"denied"}`},
		{"the upstream's /healthz is reached through the plugin", x, "/healthz", 200, "up:/healthz"},
		{"the upstream's /readyz is reached through the plugin", x, "/readyz", 200, "up:/readyz"},
		{"the upstream's /metrics is reached through the plugin", x, "/metrics", 200, "up:/metrics"},
		{"the admin handler answers health without the plugin", admin, "/healthz", 200, "ok\n"},
		{"the admin handler is ready after a configuration", admin, "/readyz", 200, "ready\n"},
		{"the admin handler serves nothing but its endpoints", admin, "/x", 404, "404 page not found\n"},
		{"the admin handler has no profiler without --pprof", admin, "/debug/pprof/cmdline", 404, "404 page not found\n"},
		{"with --pprof the admin handler still answers health", withProfiler(admin), "/healthz", 200, "ok\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, b := get(tc.handler, tc.path); c != tc.code || b != tc.body {
				t.Errorf("GET %s = %d %q, want %d %q", tc.path, c, b, tc.code, tc.body)
			}
		})
	}
	if c, b := get(withProfiler(admin), "/debug/pprof/cmdline"); c != 200 || !strings.Contains(b, "tokengate-proxy") {
		t.Errorf("with --pprof, GET /debug/pprof/cmdline = %d %q, want 200 and the command line", c, b)
	}
	_, m := get(admin, "/metrics")
	for _, want := range []string{"requests 5\n", `tokengate_proxy_requests_total{code="403"} 1`, `tokengate_proxy_requests_total{code="200"} 4`, "tokengate_proxy_request_duration_seconds_count 5"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}
