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

func TestProxyGuardsUpstreamAndReportsMetrics(t *testing.T) {
	ctx := context.Background()
	wasm := testhost.Build(t, "github.com/tokengate/tokengate/host/testdata/guest")
	p, err := host.Load(ctx, wasm, host.WithPoolSize(1), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up:"+r.Header.Get("x-seen")) })
	x := newProxy(p, up, slog.New(slog.DiscardHandler))
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		x.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if c, _ := get("/readyz"); c != 503 {
		t.Errorf("readyz before configuration = %d, want 503", c)
	}
	if err := x.Configure(ctx, []byte("reject")); err == nil {
		t.Fatal("a refused configuration was reported as applied")
	}
	if err := x.Configure(ctx, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		code       int
		body       string
	}{
		{"health answers without the plugin", "/healthz", 200, "ok\n"},
		{"ready after a configuration", "/readyz", 200, "ready\n"},
		{"allowed requests reach upstream", "/x", 200, "up:/x"},
		{"denied requests get the plugin's answer", "/deny", 403, `{"error":"denied"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if c, b := get(tc.path); c != tc.code || b != tc.body {
				t.Errorf("GET %s = %d %q, want %d %q", tc.path, c, b, tc.code, tc.body)
			}
		})
	}
	_, m := get("/metrics")
	for _, want := range []string{"requests 2\n", `tokengate_proxy_requests_total{code="403"} 1`, "tokengate_proxy_request_duration_seconds_count 2"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
}
