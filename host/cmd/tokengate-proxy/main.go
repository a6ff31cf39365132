// Command tokengate-proxy is a reverse proxy that verifies Bearer tokens with
// the tokengate Proxy-Wasm plugin before forwarding requests upstream.
//
//	tokengate-proxy --plugin build/out/tokengate.wasm --config cfg.json \
//	    --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000
//
// It serves /healthz, /readyz and /metrics (Prometheus text) itself and shuts
// down gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
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

func run(args []string) error {
	fs := flag.NewFlagSet("tokengate-proxy", flag.ContinueOnError)
	pluginPath := fs.String("plugin", "", "path of the tokengate plugin `.wasm` (required)")
	configPath := fs.String("config", "", "path of the plugin configuration `JSON` (required)")
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to serve on")
	upstream := fs.String("upstream", "", "upstream base `URL`, e.g. http://127.0.0.1:9000 (required)")
	pool := fs.Int("pool", 0, "number of plugin VMs (0 means GOMAXPROCS)")
	failOpen := fs.Bool("fail-open", false, "forward requests when the plugin crashes instead of answering 500")
	cacheDir := fs.String("cache-dir", "", "`directory` for compiled plugin code between runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pluginPath == "" || *configPath == "" || *upstream == "" {
		fs.Usage()
		return errors.New("--plugin, --config and --upstream are required")
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	up, err := url.Parse(*upstream)
	if err != nil || up.Scheme == "" || up.Host == "" {
		return fmt.Errorf("--upstream %q is not an absolute URL like http://127.0.0.1:9000", *upstream)
	}
	wasm, err := os.ReadFile(*pluginPath)
	if err != nil {
		return fmt.Errorf("reading --plugin: %w", err)
	}
	cfg, err := os.ReadFile(*configPath)
	if err != nil {
		return fmt.Errorf("reading --config: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := []host.Option{host.WithLogger(logger), host.WithFailOpen(*failOpen)}
	if *pool > 0 {
		opts = append(opts, host.WithPoolSize(*pool))
	}
	if *cacheDir != "" {
		opts = append(opts, host.WithCompilationCacheDir(*cacheDir))
	}
	p, err := host.Load(ctx, wasm, opts...)
	if err != nil {
		return err
	}
	defer p.Close(context.Background())
	px := newProxy(p, httputil.NewSingleHostReverseProxy(up), logger)
	if err := px.Configure(ctx, cfg); err != nil {
		return err
	}
	srv := &http.Server{Addr: *listen, Handler: px, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("listening", "addr", *listen, "upstream", up.String())
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
