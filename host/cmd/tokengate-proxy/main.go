// Command tokengate-proxy is a reverse proxy that verifies Bearer tokens with
// the tokengate Proxy-Wasm plugin before forwarding requests upstream.
//
//	tokengate-proxy --plugin build/out/tokengate.wasm --config cfg.json \
//	    --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000
//
// Options may also come from a JSON file (--settings proxy.json, keys named
// like the flags); flags on the command line win. It serves /healthz,
// /readyz and /metrics (Prometheus text: the plugin's metrics plus request
// counts and a latency histogram) itself, streams bodies, bounds the wait
// for upstream response headers (--upstream-timeout), logs JSON, re-reads
// --config on SIGHUP (a refused configuration leaves the current one
// serving) and shuts down gracefully on SIGINT or SIGTERM. Run it with
// --help for every flag.
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
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

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
}

func parseSettings(args []string) (settings, error) {
	st := settings{Listen: "127.0.0.1:8080", UpstreamTimeout: 60 * time.Second}
	fs := flag.NewFlagSet("tokengate-proxy", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tokengate-proxy --plugin FILE --config FILE --upstream URL [flags]\n\n"+
			"A reverse proxy that runs the tokengate Proxy-Wasm plugin on every request before forwarding it.\n"+
			"It serves /healthz, /readyz (ready once a configuration is applied) and /metrics (Prometheus)\n"+
			"itself, logs JSON to stderr, re-reads --config on SIGHUP and shuts down gracefully on SIGINT/SIGTERM.\n\nFlags:\n")
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
		if file.Timeout != "" && !set["upstream-timeout"] {
			d, err := time.ParseDuration(file.Timeout)
			if err != nil {
				return st, fmt.Errorf("--settings %s: upstream_timeout: %w", *settingsFile, err)
			}
			st.UpstreamTimeout = d
		}
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
		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature), // as Envoy offers it
		host.WithUpstreamTransport("jwksfetch", "http://jwksfetch", keys)}             // the plugin's refresh requests
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
	keys.px = px
	px.keys = keys
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
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("listening", "addr", st.Listen, "upstream", up.String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// reverseProxy forwards to up, streaming bodies, with a bound on how long
// the upstream may take to start answering.
func reverseProxy(up *url.URL, timeout time.Duration, logger *slog.Logger) *httputil.ReverseProxy {
	rp := httputil.NewSingleHostReverseProxy(up)
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
