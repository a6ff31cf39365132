package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/abi"
)

// proxy serves the plugin-guarded upstream on the proxied listener, and
// health, readiness and metrics on the admin listener (adminHandler).
// Configure is the one place a new configuration (for example with freshly
// fetched keys) enters the running plugin.
type proxy struct {
	p       *host.Plugin
	guarded http.Handler
	log     *slog.Logger
	ready   atomic.Bool
	stats   *requestStats
	keys    *keySource // nil in tests without a fetcher
	fwd     forwarding // zero: no peer is trusted
}

func newProxy(p *host.Plugin, upstream http.Handler, log *slog.Logger) *proxy {
	return &proxy{p: p, guarded: p.Middleware(upstream), log: log, stats: newRequestStats()}
}

// Configure hands cfg to the plugin; on refusal the previous one keeps serving.
func (x *proxy) Configure(ctx context.Context, cfg []byte) error {
	if err := x.p.Configure(ctx, cfg); err != nil {
		x.log.Error("configuration refused", "err", err)
		return err
	}
	x.ready.Store(true)
	x.log.Info("configuration applied", "bytes", len(cfg))
	return nil
}

// ServeHTTP forwards every request, whatever its path, through the plugin
// to the upstream: the proxy answers nothing itself on this listener, so the
// upstream's own /healthz or /metrics stay reachable (and guarded), and the
// proxy's metrics are not served to whoever can reach the proxied port. The
// forwarding headers are settled first, so the plugin sees them as the
// upstream will.
func (x *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	x.guarded.ServeHTTP(sw, x.fwd.apply(r))
	x.stats.observe(sw.code, time.Since(start))
}

// adminHandler serves /healthz, /readyz (200 once a configuration is
// applied and every provider has its key set) and /metrics (Prometheus
// text). It belongs on a listener of its own (--admin-listen), reachable
// only by the operator's probes and scrapers.
func (x *proxy) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !x.ready.Load() {
			http.Error(w, "no configuration applied yet", http.StatusServiceUnavailable)
			return
		}
		if x.keys != nil && !x.keys.ready() {
			http.Error(w, "waiting for the key sets of some providers", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		x.writeMetrics(w)
	})
	return mux
}

// withProfiler adds Go's profiler (net/http/pprof) under /debug/pprof/ to
// the admin handler h. Only --pprof turns it on: profiles expose the
// process's memory and code paths, and a CPU profile costs CPU while it runs.
func withProfiler(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

var buckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type requestStats struct {
	mu     sync.Mutex
	codes  map[int]uint64
	counts []uint64
	sum    float64
	n      uint64
}

func newRequestStats() *requestStats {
	return &requestStats{codes: map[int]uint64{}, counts: make([]uint64, len(buckets))}
}

func (s *requestStats) observe(code int, d time.Duration) {
	sec := d.Seconds()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code]++
	for i, b := range buckets {
		if sec <= b {
			s.counts[i]++
		}
	}
	s.sum += sec
	s.n++
}

func metricName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == ':' {
			return r
		}
		return '_'
	}, s)
}

func (x *proxy) writeMetrics(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	pm := x.p.MetricList()
	sort.Slice(pm, func(i, j int) bool { return pm[i].Name < pm[j].Name })
	for _, m := range pm {
		n := metricName(m.Name)
		switch m.Type {
		case abi.MetricCounter:
			fmt.Fprintf(w, "# TYPE %s counter\n%s %d\n", n, n, m.Value)
		case abi.MetricGauge:
			fmt.Fprintf(w, "# TYPE %s gauge\n%s %d\n", n, n, m.Value)
		default:
			fmt.Fprintf(w, "# TYPE %s summary\n%s_sum %d\n%s_count %d\n", n, n, m.Value, n, m.Count)
		}
	}
	s := x.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintln(w, "# TYPE tokengate_proxy_requests_total counter")
	codes := make([]int, 0, len(s.codes))
	for c := range s.codes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		fmt.Fprintf(w, "tokengate_proxy_requests_total{code=\"%d\"} %d\n", c, s.codes[c])
	}
	fmt.Fprintln(w, "# TYPE tokengate_proxy_request_duration_seconds histogram")
	for i, b := range buckets {
		fmt.Fprintf(w, "tokengate_proxy_request_duration_seconds_bucket{le=\"%g\"} %d\n", b, s.counts[i])
	}
	fmt.Fprintf(w, "tokengate_proxy_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", s.n)
	fmt.Fprintf(w, "tokengate_proxy_request_duration_seconds_sum %g\n", s.sum)
	fmt.Fprintf(w, "tokengate_proxy_request_duration_seconds_count %d\n", s.n)
	if x.keys != nil {
		x.keys.writeMetrics(w)
	}
}
