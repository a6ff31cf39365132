package host

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"
)

// Option configures Load.
type Option func(*config)

type config struct {
	pool                         int
	clock                        func() time.Time
	logger                       *slog.Logger
	logLevel                     uint32
	name, rootID, vmID, cacheDir string
	vmConfig                     []byte
	env                          map[string]string
	foreign                      map[string]func([]byte) ([]byte, error)
	upstreams                    map[string]upstream
	resolver                     Resolver
	manualTicks                  bool
	failOpen                     bool
	legacyWASI                   bool
	shared                       *Shared
	maxBody                      int
	errs                         []error
}

// Resolver looks up host names for envoy_resolve_dns; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

func defaultConfig() config {
	return config{
		pool: 0, clock: time.Now, logger: slog.Default(), logLevel: 2,
		name: "tokengate", vmID: "tokengate",
		foreign:   map[string]func([]byte) ([]byte, error){},
		upstreams: map[string]upstream{},
		resolver:  net.DefaultResolver,
		maxBody:   1 << 20,
	}
}

// WithPoolSize sets how many VMs serve streams (default GOMAXPROCS).
func WithPoolSize(n int) Option { return func(c *config) { c.pool = n } }

// WithClock injects the clock the guest sees (WASI clocks,
// proxy_get_current_time_nanoseconds) and that schedules proxy_on_tick.
func WithClock(f func() time.Time) Option { return func(c *config) { c.clock = f } }

// WithLogger receives the plugin's log lines.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithLogLevel sets the level proxy_get_log_level reports (abi.LogTrace to
// abi.LogCritical; default abi.LogInfo).
func WithLogLevel(level uint32) Option { return func(c *config) { c.logLevel = level } }

// WithPluginName sets the plugin_name property.
func WithPluginName(s string) Option { return func(c *config) { c.name = s } }

// WithRootID sets the plugin_root_id property.
func WithRootID(s string) Option { return func(c *config) { c.rootID = s } }

// WithVMID sets the plugin_vm_id property. Plugins loaded with the same VM id
// share shared data and shared queues, as Envoy's VMs with one vm_id do.
func WithVMID(s string) Option { return func(c *config) { c.vmID = s } }

// WithVMConfiguration sets the bytes proxy_on_vm_start reads as the VM
// configuration (buffer type 6).
func WithVMConfiguration(b []byte) Option {
	return func(c *config) { c.vmConfig = append([]byte(nil), b...) }
}

// WithEnv sets the environment variables the guest sees through WASI.
func WithEnv(m map[string]string) Option { return func(c *config) { c.env = m } }

// WithForeignFunction registers a function the guest can call with
// proxy_call_foreign_function. An error from fn answers INTERNAL_FAILURE.
func WithForeignFunction(name string, fn func([]byte) ([]byte, error)) Option {
	return func(c *config) { c.foreign[name] = fn }
}

// WithUpstream names an upstream (Envoy's cluster) that proxy_http_call can
// reach. baseURL gives the scheme, host and an optional path prefix; the
// call's :path is appended to it.
func WithUpstream(name, baseURL string) Option {
	return WithUpstreamTransport(name, baseURL, nil)
}

// WithUpstreamTransport is WithUpstream with the requests sent through rt
// (http.DefaultTransport when nil), for custom TLS or in-memory test servers.
func WithUpstreamTransport(name, baseURL string, rt http.RoundTripper) Option {
	return func(c *config) {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.errs = append(c.errs, fmt.Errorf("host: upstream %q: %q is not an absolute http(s) URL like http://127.0.0.1:9000", name, baseURL))
			return
		}
		if rt == nil {
			rt = http.DefaultTransport
		}
		c.upstreams[name] = upstream{base: u, rt: rt}
	}
}

// WithResolver sets the resolver behind envoy_resolve_dns
// (net.DefaultResolver by default).
func WithResolver(r Resolver) Option { return func(c *config) { c.resolver = r } }

// WithManualTicks stops the host from driving proxy_on_tick on its own; the
// embedder (usually a test with a fake clock) calls Plugin.Tick instead.
func WithManualTicks() Option { return func(c *config) { c.manualTicks = true } }

// WithMaxBodyBytes bounds how much of a request or response body Middleware
// buffers while the plugin asks for buffering (default 1 MiB). A request body
// over the limit is answered 413, as Envoy does; a response body over it
// aborts the response, whose headers are already sent.
func WithMaxBodyBytes(n int) Option { return func(c *config) { c.maxBody = n } }

// WithCompilationCacheDir keeps compiled code on disk between runs
// (otherwise it is kept in memory for the life of the process).
func WithCompilationCacheDir(dir string) Option { return func(c *config) { c.cacheDir = dir } }

// WithFailOpen lets a request through when the VM traps (default: 500).
func WithFailOpen(b bool) Option { return func(c *config) { c.failOpen = b } }

// WithLegacyWASI makes the host behave like Envoy 1.33 to 1.38
// (proxy-wasm-cpp-host before its WASI rework, which Envoy 1.39 took), the
// oldest releases tokengate supports, so tests can prove the module still
// runs there:
//
//   - only the 18 WASI functions those releases link are provided; a module
//     importing any other (path_filestat_get, from any os.Stat) fails to
//     load, as Envoy's "missing import" does;
//   - poll_oneoff answers ENOSYS, on which the Go runtime aborts, so any
//     sleep, timer or idle wait in the module traps the VM;
//   - _initialize may call only proxy_log, fd_write, the args and environ
//     functions, fd_prestat_get, fd_prestat_dir_name, clock_time_get,
//     random_get, fd_fdstat_get and fd_fdstat_set_flags, and
//     proxy_on_memory_allocate only proxy_log, fd_write and clock_time_get;
//     anything else traps restricted_callback.
//
// The functions are internal/envoyabi's list for those releases, the one
// abicheck holds the module to; the restrictions are docs/compatibility.md's
// table.
func WithLegacyWASI() Option { return func(c *config) { c.legacyWASI = true } }
