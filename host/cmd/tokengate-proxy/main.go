// Command tokengate-proxy is a reverse proxy that verifies Bearer tokens with
// the tokengate Proxy-Wasm plugin before forwarding requests upstream.
//
//	tokengate-proxy --plugin build/out/tokengate.wasm --config cfg.json \
//	    --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000
//
// Options may also come from a JSON file (--settings proxy.json, keys named
// like the flags); flags on the command line win. Every request on --listen,
// whatever its path, goes through the plugin to the upstream. /healthz,
// /readyz and /metrics (Prometheus text: the plugin's metrics plus request
// counts and a latency histogram) are served on a separate admin listener
// (--admin-listen, default 127.0.0.1:9903; "off" disables it), with Go's
// profiler under /debug/pprof/ only if --pprof is given. The proxy
// sets X-Forwarded-For, -Host and -Proto itself and drops those a client
// sent, unless the client is a proxy listed in --trusted-proxies. It streams
// bodies, bounds the wait for upstream response headers
// (--upstream-timeout), logs JSON, re-reads --config on SIGHUP (a refused
// configuration leaves the current one serving) and shuts down gracefully
// on SIGINT or SIGTERM. Run it with --help for every flag.
//
// Providers without inline "jwks" get their keys from jwksfetch, run
// in-process: discovery, refresh, rotation and the plugin's unknown-kid
// refresh requests (upstream "jwksfetch") work as with the daemon.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokengate/tokengate/internal/refreshapi"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
)

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokengate-proxy:", err)
		os.Exit(1)
	}
}

// settings are the proxy's options; the --settings JSON file uses the same
// names as the flags, and flags given on the command line win over it.
type settings struct {
	Plugin          string        `json:"plugin"`
	Config          string        `json:"config"`
	Listen          string        `json:"listen"`
	Upstream        string        `json:"upstream"`
	Pool            int           `json:"pool"`
	FailOpen        bool          `json:"fail_open"`
	CacheDir        string        `json:"cache_dir"`
	UpstreamTimeout time.Duration `json:"-"`
	Timeout         string        `json:"upstream_timeout"`
	AdminListen     string        `json:"-"`
	Admin           *string       `json:"admin_listen"` // in the file: nil when absent, so that "" can disable
	TrustedProxies  []string      `json:"trusted_proxies"`
	Pprof           bool          `json:"pprof"`
	CallUpstreams   callUpstreams `json:"call_upstreams"` // calls.go
	fwd             forwarding
}

// defaultAdminListen is loopback only: health, readiness and metrics are for
// the operator's probes, not for clients. 9901 is Envoy's usual admin port
// and 9902 jwksfetch's, so the proxy takes the next one.
const defaultAdminListen = "127.0.0.1:9903"

func parseSettings(args []string) (settings, error) {
	st := settings{Listen: "127.0.0.1:8080", UpstreamTimeout: 60 * time.Second, AdminListen: defaultAdminListen}
	fs := flag.NewFlagSet("tokengate-proxy", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tokengate-proxy --plugin FILE --config FILE --upstream URL [flags]\n\n"+
			"A reverse proxy that runs the tokengate Proxy-Wasm plugin on every request before forwarding it.\n"+
			"Every path on --listen goes through the plugin to the upstream. /healthz, /readyz (ready once a\n"+
			"configuration is applied) and /metrics (Prometheus) are served on --admin-listen. It logs JSON to\n"+
			"stderr, re-reads --config on SIGHUP and shuts down gracefully on SIGINT/SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	settingsFile := fs.String("settings", "", "JSON `file` with any of the options below (keys as the flag names, with _ for -); flags win")
	fs.StringVar(&st.Plugin, "plugin", "", "path of the tokengate plugin `.wasm` (required)")
	fs.StringVar(&st.Config, "config", "", "path of the plugin configuration `JSON` (required)")
	fs.StringVar(&st.Listen, "listen", st.Listen, "`address` to serve on")
	fs.StringVar(&st.Upstream, "upstream", "", "upstream base `URL`, e.g. http://127.0.0.1:9000 (required)")
	fs.DurationVar(&st.UpstreamTimeout, "upstream-timeout", st.UpstreamTimeout, "how long to wait for the upstream's response headers")
	fs.IntVar(&st.Pool, "pool", 0, "number of plugin VMs (0 means GOMAXPROCS)")
	fs.BoolVar(&st.FailOpen, "fail-open", false, "forward requests when the plugin crashes instead of answering 500 (insecure)")
	fs.StringVar(&st.CacheDir, "cache-dir", "", "`directory` for compiled plugin code between runs")
	fs.StringVar(&st.AdminListen, "admin-listen", st.AdminListen, "`address` for /healthz, /readyz and /metrics; keep it on loopback or a private network; \"off\" or \"\" disables it")
	fs.BoolVar(&st.Pprof, "pprof", false, "also serve Go's profiler (net/http/pprof, /debug/pprof/) on --admin-listen; for profiling, never on a reachable address")
	var calls callUpstreams
	fs.Var(&calls, "call-upstream", "`NAME=URL` of an upstream the plugin's HTTP calls may name, like an Envoy cluster (e.g. a provider's introspection \"cluster\"); repeatable")
	trusted := fs.String("trusted-proxies", "", "comma-separated `CIDRs` of proxies in front of this one whose X-Forwarded-* headers are believed (default: none)")
	if err := fs.Parse(args); err != nil {
		return st, err
	}
	if *settingsFile != "" {
		b, err := os.ReadFile(*settingsFile)
		if err != nil {
			return st, fmt.Errorf("reading --settings: %w", err)
		}
		var file settings
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&file); err != nil {
			return st, fmt.Errorf("--settings %s: %w (keys are the flag names with _ for -)", *settingsFile, err)
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		apply := func(name string, f func()) {
			if !set[name] {
				f()
			}
		}
		apply("plugin", func() { st.Plugin = cmp.Or(file.Plugin, st.Plugin) })
		apply("config", func() { st.Config = cmp.Or(file.Config, st.Config) })
		apply("listen", func() { st.Listen = cmp.Or(file.Listen, st.Listen) })
		apply("upstream", func() { st.Upstream = cmp.Or(file.Upstream, st.Upstream) })
		apply("pool", func() { st.Pool = cmp.Or(file.Pool, st.Pool) })
		apply("fail-open", func() { st.FailOpen = file.FailOpen || st.FailOpen })
		apply("cache-dir", func() { st.CacheDir = cmp.Or(file.CacheDir, st.CacheDir) })
		apply("admin-listen", func() {
			if file.Admin != nil {
				st.AdminListen = *file.Admin
			}
		})
		apply("trusted-proxies", func() { st.TrustedProxies = file.TrustedProxies })
		apply("pprof", func() { st.Pprof = file.Pprof || st.Pprof })
		st.CallUpstreams = file.CallUpstreams
		if file.Timeout != "" && !set["upstream-timeout"] {
			d, err := time.ParseDuration(file.Timeout)
			if err != nil {
				return st, fmt.Errorf("--settings %s: upstream_timeout: %w", *settingsFile, err)
			}
			st.UpstreamTimeout = d
		}
	}
	if *trusted != "" {
		st.TrustedProxies = strings.Split(*trusted, ",")
	}
	if st.AdminListen == "off" {
		st.AdminListen = ""
	}
	if st.Pprof && st.AdminListen == "" {
		return st, errors.New("--pprof serves the profiler on the admin listener, which is off; give --admin-listen an address (loopback)")
	}
	fwd, err := parseTrustedProxies(st.TrustedProxies)
	if err != nil {
		return st, err
	}
	st.fwd = fwd
	st.CallUpstreams = st.CallUpstreams.with(calls) // a flag wins over the file, name by name
	if err := st.CallUpstreams.check(); err != nil {
		return st, err
	}
	if st.Plugin == "" || st.Config == "" || st.Upstream == "" {
		fs.Usage()
		return st, errors.New("--plugin, --config and --upstream are required (on the command line or in --settings)")
	}
	return st, nil
}

func run(args []string) error {
	st, err := parseSettings(args)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	up, err := url.Parse(st.Upstream)
	if err != nil || up.Scheme == "" || up.Host == "" {
		return fmt.Errorf("--upstream %q is not an absolute URL like http://127.0.0.1:9000", st.Upstream)
	}
	wasm, err := os.ReadFile(st.Plugin)
	if err != nil {
		return fmt.Errorf("reading --plugin: %w", err)
	}
	cfg, err := os.ReadFile(st.Config)
	if err != nil {
		return fmt.Errorf("reading --config: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	keys := &keySource{log: logger}
	opts := []host.Option{host.WithLogger(logger), host.WithFailOpen(st.FailOpen),
		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature),        // as Envoy offers it
		host.WithUpstreamTransport(refreshapi.Upstream, "http://"+refreshapi.Upstream, keys)} // the plugin's refresh requests
	opts = append(opts, st.CallUpstreams.options()...)
	if st.Pool > 0 {
		opts = append(opts, host.WithPoolSize(st.Pool))
	}
	if st.CacheDir != "" {
		opts = append(opts, host.WithCompilationCacheDir(st.CacheDir))
	}
	p, err := host.Load(ctx, wasm, opts...)
	if err != nil {
		return err
	}
	defer p.Close(context.Background())
	px := newProxy(p, reverseProxy(up, st.UpstreamTimeout, logger), logger)
	px.fwd = st.fwd
	keys.px = px
	px.keys = keys
	// The admin listener opens first: /healthz answers and /readyz says 503
	// while the first key sets are fetched.
	errc := make(chan error, 2)
	var admin *http.Server
	if st.AdminListen != "" {
		lis, err := net.Listen("tcp", st.AdminListen)
		if err != nil {
			return fmt.Errorf("--admin-listen: %w (choose a free address, or pass --admin-listen off)", err)
		}
		h := px.adminHandler()
		if st.Pprof {
			h = withProfiler(h)
		}
		admin = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := admin.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("admin listener: %w", err)
			}
		}()
		logger.Info("admin listening", "addr", lis.Addr().String())
	}
	if err := keys.apply(ctx, cfg); err != nil {
		return err
	}
	defer keys.stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			b, err := os.ReadFile(st.Config)
			if err != nil {
				logger.Error("SIGHUP: reading --config failed; keeping the current configuration", "err", err)
				continue
			}
			if err := keys.apply(ctx, b); err != nil {
				logger.Error("SIGHUP: configuration refused; keeping the current one", "err", err)
			}
		}
	}()
	srv := &http.Server{Addr: st.Listen, Handler: px, ReadHeaderTimeout: 10 * time.Second}
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("listening", "addr", st.Listen, "upstream", up.String(), "trusted_proxies", st.TrustedProxies)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if admin != nil {
		_ = admin.Shutdown(sctx)
	}
	return srv.Shutdown(sctx)
}

// forwardingHeaders are the headers httputil.ReverseProxy removes before
// Rewrite runs; reverseProxy copies them back from the request the plugin
// passed, which already holds the values forwarding.apply settled.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

// reverseProxy forwards to up, streaming bodies, with a bound on how long
// the upstream may take to start answering. The upstream gets the request
// as the plugin passed it: its Host, its query string as sent, and the
// forwarding headers the proxy set before the plugin ran (the proxy adds no
// X-Forwarded-For of its own afterwards, unlike a Director-based proxy).
func reverseProxy(up *url.URL, timeout time.Duration, logger *slog.Logger) *httputil.ReverseProxy {
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(up)
		pr.Out.Host = pr.In.Host
		pr.Out.URL.RawQuery = joinQuery(up.RawQuery, pr.In.URL.RawQuery)
		for _, k := range forwardingHeaders {
			if v, ok := pr.In.Header[k]; ok {
				pr.Out.Header[k] = v
			}
		}
	}}
	// Without a pool, every response copy allocates (and zeroes) a 32 KiB
	// buffer: over half of the proxy's allocated bytes per request.
	rp.BufferPool = &bufferPool{}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = timeout
	tr.MaxIdleConnsPerHost = 256
	rp.Transport = tr
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		logger.Warn("upstream failed", "err", err, "path", r.URL.Path)
		w.WriteHeader(http.StatusBadGateway)
	}
	return rp
}

// bufferPool recycles the buffers httputil.ReverseProxy copies bodies with.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// joinQuery joins the upstream URL's query and the request's, unchanged, so
// that the upstream sees the parameters the plugin judged.
func joinQuery(up, in string) string {
	if up == "" || in == "" {
		return up + in
	}
	return up + "&" + in
}
