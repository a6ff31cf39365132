package jwksfetch

import "context"

// Sink receives each new rendered plugin configuration. Publish is called
// from one goroutine at a time, only when the configuration changed, and
// again after a failure until it succeeds or a newer configuration replaces
// it. config must not be modified.
type Sink interface {
	Publish(ctx context.Context, config []byte) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(ctx context.Context, config []byte) error

// Publish calls f.
func (f SinkFunc) Publish(ctx context.Context, config []byte) error { return f(ctx, config) }

// Callback returns a sink that hands every new configuration to fn, for a
// proxy that runs the fetcher in process and reconfigures its plugin.
func Callback(fn func(config []byte)) Sink {
	return SinkFunc(func(_ context.Context, config []byte) error {
		fn(config)
		return nil
	})
}
