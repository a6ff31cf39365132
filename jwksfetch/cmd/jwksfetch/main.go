// Command jwksfetch fills in the key sets of a tokengate plugin configuration.
//
//	jwksfetch --config cfg.json --once --out rendered.json
//
// It reads the configuration, fetches the key set of every provider without
// inline "jwks" and writes the rendered configuration atomically.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/tokengate/tokengate/jwksfetch"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "jwksfetch:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("jwksfetch", flag.ContinueOnError)
	config := fs.String("config", "", "plugin configuration JSON file (required)")
	once := fs.Bool("once", false, "fetch once, write --out, and exit")
	out := fs.String("out", "", "where --once writes the rendered configuration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *config == "" {
		return errors.New("--config is required")
	}
	if !*once || *out == "" {
		return errors.New("this build runs in --once mode only: pass --once --out PATH")
	}
	cfg, err := os.ReadFile(*config)
	if err != nil {
		return fmt.Errorf("reading --config: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rendered, warnings, err := jwksfetch.Once(ctx, cfg)
	for _, w := range warnings {
		slog.Warn("key set", "warning", w)
	}
	if err != nil {
		return err
	}
	return writeAtomic(*out, rendered)
}

// writeAtomic writes data to a temporary file beside path and renames it, so
// readers see either the old file or the complete new one.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
