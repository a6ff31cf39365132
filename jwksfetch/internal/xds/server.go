package xds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	extensionv3 "github.com/envoyproxy/go-control-plane/envoy/service/extension/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	xdslog "github.com/envoyproxy/go-control-plane/pkg/log"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/tokengate/tokengate/jwksfetch/internal/ecds"
)

// stopGrace bounds how long Serve waits for streams to close on shutdown.
const stopGrace = 5 * time.Second

// Server is an ECDS server for one extension config resource.
type Server struct {
	name   string
	tmpl   *wasmv3.PluginConfig
	cache  *cachev3.LinearCache
	logger *slog.Logger
}

// New returns a server for the resource name, built from the Wasm
// PluginConfig template tmpl. Envoys that ask for the resource before the
// first Publish wait for it.
func New(name string, tmpl *wasmv3.PluginConfig, logger *slog.Logger) *Server {
	// A per-process prefix keeps versions of a restarted server distinct
	// from those an Envoy saw before the restart.
	prefix := fmt.Sprintf("%x-", time.Now().UnixNano())
	c := cachev3.NewLinearCache(resourcev3.ExtensionConfigType,
		cachev3.WithVersionPrefix(prefix),
		cachev3.WithLogger(logAdapter(logger)))
	return &Server{name: name, tmpl: tmpl, cache: c, logger: logger}
}

// Publish makes config the plugin configuration served to every Envoy.
func (s *Server) Publish(_ context.Context, config []byte) error {
	res, err := ecds.Resource(s.name, s.tmpl, config)
	if err != nil {
		return err
	}
	if err := s.cache.UpdateResource(s.name, res); err != nil {
		return fmt.Errorf("xds: updating resource %q: %w", s.name, err)
	}
	return nil
}

// Serve answers ECDS streams on lis until ctx is cancelled, then closes the
// streams and returns nil.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	streamCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	xds := serverv3.NewServer(streamCtx, s.cache, serverv3.CallbackFuncs{
		StreamOpenFunc: func(_ context.Context, id int64, typ string) error {
			s.logger.Debug("xds: stream opened", "stream", id, "type", typ)
			return nil
		},
		DeltaStreamOpenFunc: func(_ context.Context, id int64, typ string) error {
			s.logger.Debug("xds: delta stream opened", "stream", id, "type", typ)
			return nil
		},
	})
	g := grpc.NewServer()
	extensionv3.RegisterExtensionConfigDiscoveryServiceServer(g, xds)
	errc := make(chan error, 1)
	go func() { errc <- g.Serve(lis) }()
	select {
	case err := <-errc:
		if errors.Is(err, grpc.ErrServerStopped) {
			return nil
		}
		return fmt.Errorf("xds: serving on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	cancel()
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopGrace):
		g.Stop()
		<-stopped
	}
	<-errc
	return nil
}

func logAdapter(l *slog.Logger) xdslog.Logger {
	return xdslog.LoggerFuncs{
		DebugFunc: func(f string, a ...any) { l.Debug("xds: " + fmt.Sprintf(f, a...)) },
		InfoFunc:  func(f string, a ...any) { l.Debug("xds: " + fmt.Sprintf(f, a...)) },
		WarnFunc:  func(f string, a ...any) { l.Warn("xds: " + fmt.Sprintf(f, a...)) },
		ErrorFunc: func(f string, a ...any) { l.Error("xds: " + fmt.Sprintf(f, a...)) },
	}
}
