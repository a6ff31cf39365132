package host

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// maxMemoryPages caps each VM's linear memory at 1 GiB, Envoy's limit.
const maxMemoryPages = 16384

// Plugin is a loaded Proxy-Wasm module with its configuration and VM pool.
type Plugin struct {
	cfg      config
	start    time.Time
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	environ  []string
	metrics  *metricStore
	shared   *vmShared
	// exports are the callbacks the module exports (every VM has the same);
	// read-only after Load.
	exports map[string]bool
	// untilResponse: a stream needs its VM until the response is over,
	// because the module filters the response or logs the exchange
	// (responseCallbacks). Otherwise Middleware ends the stream as soon as
	// the plugin has passed the request, and the VM serves others while
	// the upstream answers.
	untilResponse bool
	life          context.Context // ends at Close
	stop          context.CancelFunc
	tickPoke      chan struct{}
	bg            sync.WaitGroup

	mono atomic.Uint64 // last monotonic reading

	mu        sync.Mutex
	gen       *generation
	next      *generation // being installed by Configure
	cfgMu     sync.Mutex  // one Configure at a time
	closed    bool
	counter   uint64
	lingering map[*vm]struct{} // retired root contexts waiting for proxy_done
}

// generation is one accepted configuration and the VMs that run it.
type generation struct {
	config  []byte
	vms     chan *vm // idle VMs
	retired chan struct{}

	mu   sync.Mutex
	done bool
	live int
	all  map[*vm]struct{}
}

var (
	cacheOnce  sync.Once
	sharedComp wazero.CompilationCache
)

// processCache is the in-memory compilation cache every Plugin of the
// process shares unless WithCompilationCacheDir names a directory: loading
// the same module again (a reload, another plugin, a test) skips the
// compiler. Entries are keyed by the module's hash.
func processCache() wazero.CompilationCache {
	cacheOnce.Do(func() { sharedComp = wazero.NewCompilationCache() })
	return sharedComp
}

// Load compiles wasm once and prepares a plugin; call Configure before use.
func Load(ctx context.Context, wasm []byte, opts ...Option) (*Plugin, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	if c.pool == 0 {
		c.pool = runtime.GOMAXPROCS(0)
	}
	if c.pool < 1 {
		return nil, fmt.Errorf("host: pool size %d is not positive; use WithPoolSize(n) with n >= 1", c.pool)
	}
	cache := processCache()
	if c.cacheDir != "" {
		var err error
		if cache, err = wazero.NewCompilationCacheWithDir(c.cacheDir); err != nil {
			return nil, fmt.Errorf("host: compilation cache %q: %w", c.cacheDir, err)
		}
	}
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(maxMemoryPages).WithCompilationCache(cache)
	p := &Plugin{cfg: c, start: c.clock(), rt: wazero.NewRuntimeWithConfig(ctx, rc), metrics: newMetricStore(),
		tickPoke: make(chan struct{}, 1), lingering: map[*vm]struct{}{}}
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
	if err := checkABI(cm); err != nil {
		p.rt.Close(ctx)
		return nil, err
	}
	if c.legacyWASI {
		if err := checkLegacyImports(cm); err != nil {
			p.rt.Close(ctx)
			return nil, err
		}
	}
	p.compiled = cm
	p.exports = map[string]bool{}
	for name := range cm.ExportedFunctions() {
		p.exports[name] = true
	}
	for _, name := range responseCallbacks {
		p.untilResponse = p.untilResponse || p.exports[name]
	}
	state := c.shared
	if state == nil {
		state = NewShared() // this plugin's alone
	}
	p.shared = state.acquire(c.vmID)
	p.life, p.stop = context.WithCancel(context.Background())
	if !c.manualTicks {
		p.bg.Add(1)
		go p.tickLoop()
	}
	return p, nil
}

// monotonic is WASI's monotonic clock, derived from the injectable clock:
// nanoseconds since Load plus one second (the Go runtime refuses a
// monotonic clock that reads zero), never going backwards even if the
// injected clock does.
func (p *Plugin) monotonic() uint64 {
	now := uint64(max(p.cfg.clock().Sub(p.start), 0)) + uint64(time.Second)
	for {
		last := p.mono.Load()
		if now <= last {
			return last
		}
		if p.mono.CompareAndSwap(last, now) {
			return now
		}
	}
}

// checkLegacyImports refuses, as Envoy 1.33–1.38 do, a module importing a
// WASI function those releases do not link, naming the first one.
func checkLegacyImports(cm wazero.CompiledModule) error {
	for _, f := range cm.ImportedFunctions() {
		module, name, _ := f.Import()
		if module == "wasi_snapshot_preview1" && !legacyImports[module+"."+name] {
			return fmt.Errorf("host: the module imports wasi_snapshot_preview1.%s, which Envoy 1.33–1.38 "+
				"(WithLegacyWASI) do not provide; it uses the file system or another WASI call those releases lack, "+
				"find the caller with go build -ldflags=-dumpdep", name)
		}
	}
	return nil
}

// checkABI refuses a module without a Proxy-Wasm ABI marker, as Envoy does
// ("Missing or unknown Proxy-Wasm ABI version").
func checkABI(cm wazero.CompiledModule) error {
	ex := cm.ExportedFunctions()
	for _, v := range []string{"proxy_abi_version_0_2_1", "proxy_abi_version_0_2_0"} {
		if _, ok := ex[v]; ok {
			return nil
		}
	}
	return errors.New("host: the module exports no proxy_abi_version_0_2_1 (or 0_2_0) function; " +
		"it is not a Proxy-Wasm ABI v0.2 module")
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
	legacy := p.cfg.legacyWASI
	initOK, allocOK := initAllowed, allocAllowed
	if legacy {
		initOK, allocOK = legacyInitAllowed, legacyAllocAllowed
	}
	for _, im := range imports {
		if legacy && !legacyImports[im.Module+"."+im.Name] {
			continue // not linked: a module importing it fails to instantiate
		}
		b, ok := builders[im.Module]
		if !ok {
			b = p.rt.NewHostModuleBuilder(im.Module)
			builders[im.Module] = b
			order = append(order, im.Module)
		}
		var fn func(context.Context, api.Module, []uint64)
		switch {
		case im.Module == "env":
			fn = envFunc(im.Name)
		case legacy && im.Name == "poll_oneoff":
			fn = errno(errnoNosys) // Envoy 1.33–1.38; the Go runtime aborts on it
		default:
			fn = wasiFunc(im.Name)
		}
		name := im.Name
		guarded := func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			if (v.phase == phaseInit && !initOK[name]) || (v.phase == phaseAlloc && !allocOK[name]) {
				during := "_initialize"
				if v.phase == phaseAlloc {
					during = "proxy_on_memory_allocate"
				}
				panic(fmt.Sprintf("restricted_callback: %s may not be called during %s", name, during))
			}
			fn(ctx, m, s)
		}
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(guarded), valTypes(im.Params), valTypes(im.Results)).Export(im.Name)
	}
	for _, name := range order {
		if _, err := builders[name].Instantiate(ctx); err != nil {
			return fmt.Errorf("host: link %s: %w", name, err)
		}
	}
	return nil
}

// Configure applies a new plugin configuration the way Envoy does. A
// canary VM (a fresh instance: _initialize, root context, vm_start,
// configure) must accept it, or the error is returned and the old
// configuration keeps serving. Then every VM of the old configuration gets
// a new root context with the new configuration and its old root context
// ends (on_done, on_delete): idle VMs at once, busy ones when their stream
// ends, so no request fails and streams finish on the configuration they
// started with. The canary is dropped, like Envoy's, unless there were no
// VMs yet; then it becomes the first one.
func (p *Plugin) Configure(ctx context.Context, cfg []byte) error {
	p.cfgMu.Lock()
	defer p.cfgMu.Unlock()
	g := &generation{config: append([]byte(nil), cfg...), vms: make(chan *vm, p.cfg.pool),
		retired: make(chan struct{}), all: map[*vm]struct{}{}}
	canary, err := p.newVM(ctx, g.config, g)
	if err != nil {
		return err
	}
	p.mu.Lock()
	closed, old := p.closed, p.gen
	if !closed {
		p.next = g
	}
	p.mu.Unlock()
	if closed {
		canary.close(ctx)
		return errors.New("host: plugin is closed")
	}
	if old != nil {
		old.mu.Lock()
		old.done = true
		old.mu.Unlock()
		p.migrateIdle(old, g)
	}
	g.mu.Lock()
	keepCanary := g.live == 0
	if keepCanary {
		g.live++
		g.all[canary] = struct{}{}
		g.vms <- canary
	}
	g.mu.Unlock()
	if !keepCanary {
		canary.mu.Lock()
		canary.retire(ctx)
		canary.mu.Unlock()
	}
	p.mu.Lock()
	p.gen, p.next = g, nil
	p.mu.Unlock()
	if old != nil {
		close(old.retired) // waiters move on to g
		p.migrateIdle(old, g)
	}
	if keepCanary {
		go canary.kick()
	}
	p.pokeTicks()
	return nil
}

// migrateIdle moves the idle VMs of old to g.
func (p *Plugin) migrateIdle(old, g *generation) {
	for {
		select {
		case v := <-old.vms:
			v.mu.Lock()
			p.migrate(v, g)
			v.mu.Unlock()
			v.kick()
		default:
			return
		}
	}
}

// migrate gives v (held by the caller) g's configuration and puts it in g's
// pool, or retires it when it cannot serve g.
func (p *Plugin) migrate(v *vm, g *generation) {
	p.leave(v, v.gen)
	g.mu.Lock()
	room := !g.done && g.live < p.cfg.pool && !v.broken && !v.closed
	if room {
		g.live++ // reserve the slot while the VM reconfigures
	}
	g.mu.Unlock()
	if !room {
		v.retire(p.life)
		return
	}
	if err := v.reconfigure(g); err != nil {
		p.cfg.logger.Error("a VM could not take the new configuration; it is replaced", "err", err)
		g.mu.Lock()
		g.live--
		g.mu.Unlock()
		v.retire(p.life)
		return
	}
	g.mu.Lock()
	if !g.done {
		g.all[v] = struct{}{}
		g.vms <- v
		g.mu.Unlock()
		return
	}
	g.live--
	g.mu.Unlock()
	v.retire(p.life)
}

// leave takes v out of g's accounting.
func (p *Plugin) leave(v *vm, g *generation) {
	g.mu.Lock()
	if _, ok := g.all[v]; ok {
		delete(g.all, v)
		g.live--
	}
	g.mu.Unlock()
}

// retire stops g from taking VMs back and retires its idle VMs; busy ones
// retire when released.
func (g *generation) retire(ctx context.Context) {
	g.mu.Lock()
	if !g.done {
		g.done = true
		close(g.retired)
	}
	g.mu.Unlock()
	for {
		select {
		case v := <-g.vms:
			v.mu.Lock()
			v.retire(ctx)
			v.mu.Unlock()
		default:
			return
		}
	}
}

func (p *Plugin) current() (*generation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("host: plugin is closed")
	}
	if p.gen == nil {
		return nil, errors.New("host: plugin has no configuration; call Configure first")
	}
	return p.gen, nil
}

// acquire returns a VM of the current configuration, locked for the caller.
func (p *Plugin) acquire(ctx context.Context) (*vm, error) {
	for {
		g, err := p.current()
		if err != nil {
			return nil, err
		}
		v, err := p.take(ctx, g)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue // g was replaced while waiting
		}
		v.mu.Lock()
		if v.broken || v.closed {
			p.discard(v)
			v.mu.Unlock()
			continue
		}
		return v, nil
	}
}

func (p *Plugin) take(ctx context.Context, g *generation) (*vm, error) {
	select {
	case v := <-g.vms:
		return v, nil
	default:
	}
	g.mu.Lock()
	grow := !g.done && g.live < p.cfg.pool
	if grow {
		g.live++
	}
	g.mu.Unlock()
	if grow {
		v, err := p.newVM(ctx, g.config, g)
		g.mu.Lock()
		if err != nil {
			g.live--
		} else {
			g.all[v] = struct{}{}
		}
		g.mu.Unlock()
		return v, err
	}
	select {
	case v := <-g.vms:
		return v, nil
	case <-g.retired:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// discard retires v (held by the caller) and frees its pool slot.
func (p *Plugin) discard(v *vm) {
	v.retire(p.life)
	p.leave(v, v.gen)
}

// release delivers what arrived for v meanwhile, then returns it to its
// pool; a VM whose configuration was replaced moves to the current one, and
// one that trapped is discarded.
func (p *Plugin) release(v *vm) {
	v.stream = nil
	v.drain()
	v.finishDone()
	g := v.gen
	g.mu.Lock()
	keep := !g.done && !v.broken && !v.closed
	if keep {
		g.vms <- v
	}
	g.mu.Unlock()
	if !keep {
		p.mu.Lock()
		cur, closed := p.gen, p.closed
		if p.next != nil {
			cur = p.next
		}
		p.mu.Unlock()
		if v.broken || v.closed || closed || cur == g {
			p.discard(v)
		} else {
			p.migrate(v, cur)
		}
	}
	v.mu.Unlock()
	v.kick()
}

// awaitDone keeps a retired VM whose root context has not finished.
func (p *Plugin) awaitDone(v *vm) {
	p.mu.Lock()
	p.lingering[v] = struct{}{}
	p.mu.Unlock()
}

func (p *Plugin) forgetLingering(v *vm) {
	p.mu.Lock()
	delete(p.lingering, v)
	p.mu.Unlock()
}

// Close releases every VM and the runtime. Streams still open fail.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	g := p.gen
	lingering := make([]*vm, 0, len(p.lingering))
	for v := range p.lingering {
		lingering = append(lingering, v)
	}
	p.mu.Unlock()
	if g != nil {
		g.retire(ctx)
	}
	for _, v := range lingering {
		v.mu.Lock()
		v.close(ctx)
		v.mu.Unlock()
	}
	p.stop()
	p.bg.Wait()
	p.shared.release()
	return p.rt.Close(ctx)
}
