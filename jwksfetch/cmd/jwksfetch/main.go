// Command jwksfetch keeps the key sets of a tokengate plugin configuration
// fresh and delivers the configuration with keys to Envoy or to a file.
//
//	jwksfetch --config cfg.json --once --out rendered.json
//	jwksfetch --config cfg.json --wasm-template wasm.json --xds-listen 127.0.0.1:18000
//	jwksfetch --config cfg.json --wasm-template wasm.json --ecds-file /etc/envoy/ecds/tokengate.json
//	jwksfetch --config cfg.json --bundle-key bundle.key --admin-listen :9902
//	jwksfetch keygen --out bundle.key
//
// It reads the configuration, fetches the key set of every provider without
// inline "jwks", and either writes the rendered configuration once, or keeps
// refreshing it and publishes every change to its sinks: an ECDS gRPC server
// (--xds-listen) and/or a path-based ECDS file (--ecds-file). The admin
// listener (--admin-listen) serves /healthz, /readyz, /metrics and
// POST /refresh?provider=NAME&kid=KID. With --bundle-key it also signs every
// provider's key set into one bundle that it serves there (GET /bundle) and
// answers /refresh with, for proxies whose configuration never changes (an
// Istio WasmPlugin); keygen and pubkey make and show that key (keys.go).
// SIGINT or SIGTERM stop it gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"

	"github.com/tokengate/tokengate/jwksfetch"
	"github.com/tokengate/tokengate/jwksfetch/internal/ecds"
	"github.com/tokengate/tokengate/jwksfetch/internal/xds"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) > 1 && keyCommands[os.Args[1]] {
		if err := keyCommand(os.Args[1], os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "jwksfetch "+os.Args[1]+":", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], logger, nil); err != nil {
		fmt.Fprintln(os.Stderr, "jwksfetch:", err)
		os.Exit(1)
	}
}

type flags struct {
	config, out, ecdsFile, ecdsName, template, xdsListen, adminListen string
	once                                                              bool
	onDemand                                                          time.Duration
	bundleKey                                                         string
	bundleReissue                                                     time.Duration
}

func parseFlags(args []string) (*flags, error) {
	var f flags
	fs := flag.NewFlagSet("jwksfetch", flag.ContinueOnError)
	fs.StringVar(&f.config, "config", "", "plugin configuration JSON file (required)")
	fs.BoolVar(&f.once, "once", false, "fetch once, write --out, and exit")
	fs.StringVar(&f.out, "out", "", "where --once writes the rendered configuration (atomically)")
	fs.StringVar(&f.ecdsFile, "ecds-file", "", "write a path-based ECDS file here on every change (atomically)")
	fs.StringVar(&f.ecdsName, "ecds-name", "tokengate", "name of the ECDS TypedExtensionConfig resource")
	fs.StringVar(&f.template, "wasm-template", "", "JSON envoy.extensions.wasm.v3.PluginConfig without configuration (needed by --ecds-file and --xds-listen)")
	fs.StringVar(&f.xdsListen, "xds-listen", "", "serve ECDS over gRPC (SotW and delta) on this address")
	fs.StringVar(&f.adminListen, "admin-listen", "127.0.0.1:9902", "admin address for /healthz, /readyz, /metrics and POST /refresh; empty disables it")
	fs.DurationVar(&f.onDemand, "on-demand-interval", jwksfetch.DefaultOnDemandInterval, "minimum time between POST /refresh fetches of one provider")
	fs.StringVar(&f.bundleKey, "bundle-key", "", "sign key bundles with this Ed25519 key (PKCS #8 PEM, mode 0600; `jwksfetch keygen`) and serve them on the admin listener (GET /bundle)")
	fs.DurationVar(&f.bundleReissue, "bundle-reissue", jwksfetch.DefaultBundleReissue, "sign the same key sets again once the bundle in force is this old (keep it well under the plugins' max_stale_seconds)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case f.config == "":
		return nil, errors.New("--config is required")
	case f.once && f.out == "":
		return nil, errors.New("--once needs --out PATH")
	case f.once && (f.ecdsFile != "" || f.xdsListen != ""):
		return nil, errors.New("--once writes --out only; drop --ecds-file and --xds-listen, or drop --once")
	case f.once && f.bundleKey != "":
		return nil, errors.New("--once writes --out only; --bundle-key serves key bundles from the running daemon, drop one of them")
	case !f.once && f.ecdsFile == "" && f.xdsListen == "" && f.bundleKey == "":
		return nil, errors.New("no sink: pass --once --out PATH, --ecds-file PATH, --xds-listen ADDR or --bundle-key FILE")
	case f.bundleKey != "" && f.adminListen == "":
		return nil, errors.New("--bundle-key serves key bundles on the admin listener: set --admin-listen (e.g. :9902)")
	case f.bundleKey != "" && f.bundleReissue <= 0:
		return nil, errors.New("--bundle-reissue must be positive")
	case (f.ecdsFile != "" || f.xdsListen != "") && f.template == "":
		return nil, errors.New("--ecds-file and --xds-listen need --wasm-template FILE (the Wasm PluginConfig without configuration)")
	}
	return &f, nil
}

// started, when not nil, is told the admin and xDS addresses once listening.
func run(ctx context.Context, args []string, logger *slog.Logger, started func(admin, xds string)) error {
	f, err := parseFlags(args)
	if err != nil {
		return err
	}
	cfg, err := os.ReadFile(f.config)
	if err != nil {
		return fmt.Errorf("reading --config: %w", err)
	}
	if f.once {
		rendered, warnings, err := jwksfetch.Once(ctx, cfg)
		for _, w := range warnings {
			logger.Warn("jwksfetch: key skipped", "warning", w)
		}
		if err != nil {
			return err
		}
		return ecds.WriteFile(f.out, rendered)
	}

	var tmpl *wasmv3.PluginConfig // needed by the ECDS sinks only
	if f.template != "" {
		raw, err := os.ReadFile(f.template)
		if err != nil {
			return fmt.Errorf("reading --wasm-template: %w", err)
		}
		if tmpl, err = ecds.ParseTemplate(raw); err != nil {
			return fmt.Errorf("--wasm-template %s: %w", f.template, err)
		}
	}
	opts := []jwksfetch.Option{jwksfetch.WithLogger(logger), jwksfetch.WithOnDemandInterval(f.onDemand)}
	if f.bundleKey != "" {
		key, err := jwksfetch.LoadBundleKey(f.bundleKey)
		if err != nil {
			return fmt.Errorf("--bundle-key: %w", err)
		}
		pinned, id := jwksfetch.BundlePublicKey(key)
		logger.Info("jwksfetch: signing key bundles", "key_id", id, "public_key", pinned, "reissue", f.bundleReissue)
		opts = append(opts, jwksfetch.WithBundleKey(key), jwksfetch.WithBundleReissue(f.bundleReissue))
	}
	if f.ecdsFile != "" {
		opts = append(opts, jwksfetch.WithSink(&ecds.FileSink{Path: f.ecdsFile, Name: f.ecdsName, Template: tmpl}))
	}
	var xdsServer *xds.Server
	if f.xdsListen != "" {
		xdsServer = xds.New(f.ecdsName, tmpl, logger)
		opts = append(opts, jwksfetch.WithSink(xdsServer))
	}
	fetcher, err := jwksfetch.New(cfg, opts...)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	var adminAddr, xdsAddr string
	if f.adminListen != "" {
		lis, err := net.Listen("tcp", f.adminListen)
		if err != nil {
			return fmt.Errorf("--admin-listen: %w", err)
		}
		adminAddr = lis.Addr().String()
		srv := &http.Server{Handler: fetcher.AdminHandler(), ReadHeaderTimeout: 5 * time.Second}
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("admin listener: %w", err)
			}
		}()
		go func() {
			defer wg.Done()
			<-ctx.Done()
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	if xdsServer != nil {
		lis, err := net.Listen("tcp", f.xdsListen)
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("--xds-listen: %w", err)
		}
		xdsAddr = lis.Addr().String()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := xdsServer.Serve(ctx, lis); err != nil {
				errc <- err
			}
		}()
	}
	logger.Info("jwksfetch: running", "admin", adminAddr, "xds", xdsAddr, "ecds_file", f.ecdsFile, "bundles", f.bundleKey != "")
	if started != nil {
		started(adminAddr, xdsAddr)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = fetcher.Run(ctx)
	}()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	cancel()
	wg.Wait()
	logger.Info("jwksfetch: stopped")
	return runErr
}
