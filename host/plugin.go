package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/internal/abi"
)

// Option configures Load.
type Option func(*config)

type config struct {
	pool                         int
	clock                        func() time.Time
	logger                       *slog.Logger
	logLevel                     uint32
	name, rootID, vmID, cacheDir string
	env                          map[string]string
	foreign                      map[string]func([]byte) ([]byte, error)
	failOpen                     bool
}

// WithPoolSize sets how many VMs serve streams (default GOMAXPROCS).
func WithPoolSize(n int) Option { return func(c *config) { c.pool = n } }

// WithClock injects the clock the guest sees.
func WithClock(f func() time.Time) Option { return func(c *config) { c.clock = f } }

// WithLogger receives the plugin's log lines.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithPluginName sets the plugin_name property.
func WithPluginName(s string) Option { return func(c *config) { c.name = s } }

// WithRootID sets the plugin_root_id property.
func WithRootID(s string) Option { return func(c *config) { c.rootID = s } }

// WithVMID sets the plugin_vm_id property.
func WithVMID(s string) Option { return func(c *config) { c.vmID = s } }

// WithEnv sets the environment variables the guest sees through WASI.
func WithEnv(m map[string]string) Option { return func(c *config) { c.env = m } }

// WithForeignFunction registers a function the guest can call with
// proxy_call_foreign_function.
func WithForeignFunction(name string, fn func([]byte) ([]byte, error)) Option {
	return func(c *config) { c.foreign[name] = fn }
}

// WithCompilationCacheDir keeps compiled code on disk between runs.
func WithCompilationCacheDir(dir string) Option { return func(c *config) { c.cacheDir = dir } }

// WithFailOpen lets a request through when the VM traps (default: 500).
func WithFailOpen(b bool) Option { return func(c *config) { c.failOpen = b } }

// Plugin is a loaded Proxy-Wasm module with its configuration and VM pool.
type Plugin struct {
	cfg      config
	start    time.Time
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	environ  []string
	metrics  *metricStore
	shared   *sharedData

	mu      sync.Mutex
	gen     *generation
	closed  bool
	counter uint64
}

// generation is one accepted configuration and the VMs that run it.
type generation struct {
	config []byte
	vms    chan *vm
	mu     sync.Mutex
	live   int
}

// Load compiles wasm once and prepares a plugin; call Configure before use.
func Load(ctx context.Context, wasm []byte, opts ...Option) (*Plugin, error) {
	c := config{pool: runtime.GOMAXPROCS(0), clock: time.Now, logger: slog.Default(), logLevel: abi.LogInfo,
		name: "tokengate", vmID: "tokengate", foreign: map[string]func([]byte) ([]byte, error){}}
	for _, o := range opts {
		o(&c)
	}
	if c.pool < 1 {
		return nil, fmt.Errorf("host: pool size %d is not positive; use WithPoolSize(n) with n >= 1", c.pool)
	}
	rc := wazero.NewRuntimeConfig()
	if c.cacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(c.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("host: compilation cache %q: %w", c.cacheDir, err)
		}
		rc = rc.WithCompilationCache(cache)
	}
	p := &Plugin{cfg: c, start: c.clock(), rt: wazero.NewRuntimeWithConfig(ctx, rc), metrics: newMetricStore(),
		shared: sharedFor(c.vmID)}
	keys := make([]string, 0, len(c.env))
	for k := range c.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.environ = append(p.environ, k+"="+c.env[k])
	}
	if err := p.linkHost(ctx); err != nil {
		p.rt.Close(ctx)
		return nil, err
	}
	cm, err := p.rt.CompileModule(ctx, wasm)
	if err != nil {
		p.rt.Close(ctx)
		return nil, fmt.Errorf("host: compile plugin: %w", err)
	}
	p.compiled = cm
	return p, nil
}

func valTypes(s string) []api.ValueType {
	var out []api.ValueType
	for _, f := range strings.Fields(s) {
		if f == "i64" {
			out = append(out, api.ValueTypeI64)
		} else {
			out = append(out, api.ValueTypeI32)
		}
	}
	return out
}

func (p *Plugin) linkHost(ctx context.Context) error {
	builders := map[string]wazero.HostModuleBuilder{}
	var order []string
	for _, im := range imports {
		b, ok := builders[im.module]
		if !ok {
			b = p.rt.NewHostModuleBuilder(im.module)
			builders[im.module] = b
			order = append(order, im.module)
		}
		var fn func(context.Context, api.Module, []uint64)
		if im.module == "env" {
			fn = envFunc(im.name)
		} else {
			fn = wasiFunc(im.name)
		}
		name := im.name
		guarded := func(ctx context.Context, m api.Module, s []uint64) {
			if v := vmFrom(ctx); v.restricted && !restrictedOK[name] {
				panic(fmt.Sprintf("restricted_callback: %s may not be called during initialisation or memory allocation", name))
			}
			fn(ctx, m, s)
		}
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(guarded), valTypes(im.params), valTypes(im.results)).Export(im.name)
	}
	for _, name := range order {
		if _, err := builders[name].Instantiate(ctx); err != nil {
			return fmt.Errorf("host: link %s: %w", name, err)
		}
	}
	return nil
}

// Configure starts a canary VM with config; if the plugin accepts it, new
// streams use it, otherwise the error is returned and the old one keeps serving.
func (p *Plugin) Configure(ctx context.Context, cfg []byte) error {
	canary, err := p.newVM(ctx, cfg)
	if err != nil {
		return err
	}
	g := &generation{config: append([]byte(nil), cfg...), vms: make(chan *vm, p.cfg.pool), live: 1}
	canary.gen = g
	g.vms <- canary
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		canary.close(ctx)
		return errors.New("host: plugin is closed")
	}
	old := p.gen
	p.gen = g
	p.mu.Unlock()
	if old != nil {
		old.drain(ctx)
	}
	return nil
}

// drain closes the idle VMs of a replaced generation; busy ones close on release.
func (g *generation) drain(ctx context.Context) {
	for {
		select {
		case v := <-g.vms:
			v.retire(ctx)
		default:
			return
		}
	}
}

func (p *Plugin) acquire(ctx context.Context) (*vm, error) {
	p.mu.Lock()
	g := p.gen
	p.mu.Unlock()
	if g == nil {
		return nil, errors.New("host: plugin has no configuration; call Configure first")
	}
	select {
	case v := <-g.vms:
		return v, nil
	default:
	}
	g.mu.Lock()
	grow := g.live < p.cfg.pool
	if grow {
		g.live++
	}
	g.mu.Unlock()
	if grow {
		v, err := p.newVM(ctx, g.config)
		if err != nil {
			g.mu.Lock()
			g.live--
			g.mu.Unlock()
			return nil, err
		}
		v.gen = g
		return v, nil
	}
	select {
	case v := <-g.vms:
		return v, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Plugin) release(ctx context.Context, v *vm) {
	g := v.gen
	p.mu.Lock()
	current := p.gen == g && !p.closed
	p.mu.Unlock()
	if v.broken || !current {
		v.retire(ctx)
		g.mu.Lock()
		g.live--
		g.mu.Unlock()
		return
	}
	g.vms <- v
}

// Close releases every VM and the runtime.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	g := p.gen
	p.mu.Unlock()
	if g != nil {
		g.drain(ctx)
	}
	return p.rt.Close(ctx)
}
