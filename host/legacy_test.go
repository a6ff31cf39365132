package host_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/testhost"
)

// TestLegacyWASIBehavesLikeEnvoy133 runs guests that use what Envoy 1.33–1.38
// lack, with and without WithLegacyWASI: a module that imports
// path_filestat_get is refused at load, and one that sleeps traps on
// poll_oneoff's ENOSYS, while the default host (Envoy ≥ 1.39) runs both.
func TestLegacyWASIBehavesLikeEnvoy133(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pkg     string
		legacy  bool
		loadErr string // substring of the load error; "" if it must load
		trap    bool   // the request traps the VM
	}{
		{name: "an os.Stat module loads on Envoy 1.39", pkg: "statter"},
		{name: "an os.Stat module is refused by Envoy 1.33", pkg: "statter", legacy: true,
			loadErr: "imports wasi_snapshot_preview1.path_filestat_get, which Envoy 1.33–1.38"},
		{name: "a sleep continues on Envoy 1.39", pkg: "sleeper"},
		{name: "a sleep traps on Envoy 1.33", pkg: "sleeper", legacy: true, trap: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wasm := testhost.Build(t, "github.com/tokengate/tokengate/host/testdata/"+tt.pkg)
			var opts []host.Option
			if tt.legacy {
				opts = append(opts, host.WithLegacyWASI())
			}
			ctx := context.Background()
			p, err := host.Load(ctx, wasm, append(opts, host.WithPoolSize(1), host.WithLogger(slog.New(slog.DiscardHandler)))...)
			if tt.loadErr != "" {
				if err == nil {
					p.Close(ctx)
					t.Fatal("Load succeeded, want it to refuse the module")
				}
				if !strings.Contains(err.Error(), tt.loadErr) {
					t.Fatalf("Load: %v, want an error containing %q", err, tt.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close(ctx)
			if err := p.Configure(ctx, nil); err != nil {
				t.Fatal(err)
			}
			s, err := p.NewStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.RequestHeaders([][2]string{{":method", "GET"}, {":path", "/"}}, true)
			logs := strings.Join(s.Logs(), "\n")
			s.Close()
			if tt.trap {
				// The Go runtime writes why it aborts to stderr before it traps.
				if !errors.Is(err, host.ErrTrapped) || !strings.Contains(logs, "poll_oneoff") {
					t.Fatalf("error = %v, want a trap after a poll_oneoff failure; logs:\n%s", err, logs)
				}
			} else if err != nil {
				t.Fatalf("the request failed: %v", err)
			}
		})
	}
}
