package host

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/internal/abi"
)

type vmKey struct{}

// phase says which restricted-callback allowlist applies, if any.
type phase int

const (
	phaseOpen  phase = iota // any host function may be called
	phaseInit               // _initialize is running
	phaseAlloc              // proxy_on_memory_allocate (or malloc) is running
)

// vm is one module instance. Whoever holds mu may run guest code on it: a
// stream holds it for its whole life, event delivery only between streams.
type vm struct {
	mu sync.Mutex

	p      *Plugin
	gen    *generation
	mod    api.Module
	alloc  api.Function
	fns    map[string]api.Function // exports by name, nil when absent
	ctx    context.Context         // carries the vm to host functions
	life   context.Context         // ends when the vm is closed; bounds its callouts
	cancel context.CancelFunc

	phase       phase
	broken      bool
	closed      bool
	configuring bool // the plugin configuration buffer is readable
	nextID      uint32
	rootID      uint32
	config      []byte
	props       map[string][]byte
	stream      *Stream
	current     uint32 // context id of the running callback
	effective   uint32 // set by proxy_set_effective_context for this callback
	// lingering holds retired root contexts whose on_done returned false:
	// they still receive their events until they call proxy_done (true).
	lingering     map[uint32]bool
	closeWhenDone bool   // the VM closes once no root context lingers
	ending        uint32 // root context whose on_done is running

	callResp   *callResponse // during proxy_on_http_call_response
	callData   []byte        // buffer 8 during envoy_on_resolve_dns
	pairsBuf   []byte        // see encodePairs
	hasCallBuf bool
	httpToken  uint32
	dnsToken   uint32

	evMu        sync.Mutex // guards the fields below, which other goroutines touch
	inbox       []event
	outstanding int // HTTP calls and DNS lookups not yet delivered
	tickPeriod  time.Duration
	nextTick    time.Time
	wake        chan struct{}
}

func vmFrom(ctx context.Context) *vm { return ctx.Value(vmKey{}).(*vm) }

func (v *vm) log(level uint32, msg string) {
	lv := slog.LevelInfo
	switch {
	case level <= abi.LogDebug:
		lv = slog.LevelDebug
	case level == abi.LogWarn:
		lv = slog.LevelWarn
	case level >= abi.LogError:
		lv = slog.LevelError
	}
	if v.stream != nil {
		v.stream.logs = append(v.stream.logs, msg)
	}
	v.p.cfg.logger.Log(context.Background(), lv, msg, "plugin", v.p.cfg.name)
}

// newVM instantiates the module (running _initialize under the init
// allowlist) and starts a root context with cfg, as Envoy does per clone:
// proxy_on_context_create(root, 0), proxy_on_vm_start, proxy_on_configure.
func (p *Plugin) newVM(ctx context.Context, cfg []byte, g *generation) (*vm, error) {
	v := &vm{p: p, gen: g, nextID: 1, config: cfg, props: map[string][]byte{}, wake: make(chan struct{}, 1)}
	v.ctx = context.WithValue(context.Background(), vmKey{}, v)
	v.life, v.cancel = context.WithCancel(p.life)
	// Hold the VM while it starts: a queue it registers may be notified
	// before newVM returns, and that delivery must wait.
	v.mu.Lock()
	defer v.mu.Unlock()
	p.mu.Lock()
	p.counter++
	n := p.counter
	p.mu.Unlock()
	v.phase = phaseInit
	mod, err := p.rt.InstantiateModule(v.ctx, p.compiled,
		wazero.NewModuleConfig().WithName(fmt.Sprintf("vm-%d", n)).WithStartFunctions("_initialize"))
	v.phase = phaseOpen
	if err != nil {
		v.cancel()
		return nil, fmt.Errorf("host: instantiate plugin (_initialize): %w", err)
	}
	v.mod = mod
	// Look every callback up now, so later lookups only read v.fns (the
	// middleware asks from more than one goroutine).
	v.fns = make(map[string]api.Function, len(callbacks))
	for _, name := range callbacks {
		v.fns[name] = mod.ExportedFunction(name)
	}
	// Envoy looks up malloc first and uses proxy_on_memory_allocate only
	// when there is no malloc.
	if v.alloc = mod.ExportedFunction("malloc"); v.alloc == nil {
		v.alloc = mod.ExportedFunction("proxy_on_memory_allocate")
	}
	if v.alloc == nil {
		v.close(ctx)
		return nil, fmt.Errorf("host: plugin exports neither malloc nor proxy_on_memory_allocate")
	}
	v.rootID = v.newID()
	v.current = v.rootID
	if _, err := v.call(v.rootID, "proxy_on_context_create", uint64(v.rootID), 0); err != nil {
		v.close(ctx)
		return nil, err
	}
	v.configuring = true
	defer func() { v.configuring = false }()
	r, err := v.call(v.rootID, "proxy_on_vm_start", uint64(v.rootID), uint64(len(p.cfg.vmConfig)))
	if err != nil || (r != nil && uint32(r[0]) == 0) {
		v.close(ctx)
		if err == nil {
			err = fmt.Errorf("proxy_on_vm_start returned false")
		}
		return nil, fmt.Errorf("host: plugin refused to start; see its log: %w", err)
	}
	r, err = v.call(v.rootID, "proxy_on_configure", uint64(v.rootID), uint64(len(cfg)))
	if err != nil || (r != nil && uint32(r[0]) == 0) {
		v.close(ctx)
		if err == nil {
			err = fmt.Errorf("proxy_on_configure returned false")
		}
		return nil, fmt.Errorf("host: plugin refused the configuration; see its log: %w", err)
	}
	return v, nil
}

func (v *vm) newID() uint32 { id := v.nextID; v.nextID++; return id }

// call runs an export in context ctxID if the module has it; a trap marks
// the VM broken, and a broken VM runs nothing more.
func (v *vm) call(ctxID uint32, name string, args ...uint64) ([]uint64, error) {
	if v.broken || v.closed {
		return nil, fmt.Errorf("host: %s not called: the VM is no longer usable", name)
	}
	f := v.fn(name)
	if f == nil {
		return nil, nil
	}
	prevCur, prevEff := v.current, v.effective
	v.current, v.effective = ctxID, 0
	r, err := f.Call(v.ctx, args...)
	v.current, v.effective = prevCur, prevEff
	if err != nil {
		v.broken = true
		return nil, fmt.Errorf("host: %s trapped: %w", name, err)
	}
	return r, nil
}

// callbacks are the exports Envoy looks up in a module (module-exports.tsv).
var callbacks = []string{
	"proxy_on_vm_start", "proxy_on_configure", "proxy_on_tick", "proxy_on_context_create",
	"proxy_on_request_headers", "proxy_on_request_body", "proxy_on_request_trailers",
	"proxy_on_response_headers", "proxy_on_response_body", "proxy_on_response_trailers",
	"proxy_on_http_call_response", "proxy_on_queue_ready", "proxy_on_done", "proxy_on_log", "proxy_on_delete",
	"envoy_on_resolve_dns",
}

// fn returns the export name, looked up once per VM: wazero gives every
// lookup its own call engine and stack, which is too costly per callback.
func (v *vm) fn(name string) api.Function {
	f, ok := v.fns[name]
	if !ok {
		f = v.mod.ExportedFunction(name)
		if v.fns == nil {
			v.fns = map[string]api.Function{}
		}
		v.fns[name] = f
	}
	return f
}

// has reports whether the module exports name.
func (v *vm) has(name string) bool { return v.fn(name) != nil }

// context returns the id host functions act on: the effective context if
// the guest set one, else the context of the running callback.
func (v *vm) context() uint32 {
	if v.effective != 0 {
		return v.effective
	}
	return v.current
}

// streamInScope returns the bound stream when host functions act on it.
func (v *vm) streamInScope() *Stream {
	if v.stream != nil && v.context() == v.stream.id {
		return v.stream
	}
	return nil
}

// retire ends the root context of a VM that leaves service, then closes
// it. A root context whose on_done answers false keeps the VM open (its
// events are still delivered) until it calls proxy_done, as in Envoy.
func (v *vm) retire(ctx context.Context) {
	if v.closed {
		return
	}
	v.closeWhenDone = true
	if !v.broken && v.mod != nil {
		v.endRoot(v.rootID)
	}
	if len(v.lingering) > 0 && !v.broken {
		v.p.awaitDone(v)
		return
	}
	v.close(ctx)
}

// endRoot runs on_done for a root context and, unless it asks to linger,
// on_delete.
func (v *vm) endRoot(id uint32) {
	v.ending = id
	r, err := v.call(id, "proxy_on_done", uint64(id))
	v.ending = 0
	if err != nil {
		return
	}
	if r != nil && uint32(r[0]) == 0 {
		if v.lingering == nil {
			v.lingering = map[uint32]bool{}
		}
		v.lingering[id] = false
		return
	}
	v.call(id, "proxy_on_delete", uint64(id))
}

// reconfigure moves a VM to generation g the way Envoy applies a new plugin
// configuration to a running VM: a new root context is created, started
// and configured, then the old one is ended. Package-level state of the
// module survives, as it does in Envoy.
func (v *vm) reconfigure(g *generation) error {
	old := v.rootID
	root := v.newID()
	v.rootID = root // host functions treat the new root as the root from now on
	v.evMu.Lock()
	v.tickPeriod = 0 // the new root context sets its own timer
	v.evMu.Unlock()
	v.configuring, v.config = true, g.config
	_, err := v.call(root, "proxy_on_context_create", uint64(root), 0)
	var r []uint64
	if err == nil {
		r, err = v.call(root, "proxy_on_vm_start", uint64(root), uint64(len(v.p.cfg.vmConfig)))
	}
	if err == nil && (r == nil || uint32(r[0]) != 0) {
		r, err = v.call(root, "proxy_on_configure", uint64(root), uint64(len(g.config)))
	}
	v.configuring = false
	if err == nil && r != nil && uint32(r[0]) == 0 {
		err = fmt.Errorf("the plugin refused on this VM the configuration its canary accepted")
	}
	if err != nil {
		v.rootID = old
		return err
	}
	v.gen = g
	v.endRoot(old)
	return nil
}

// isRoot reports whether id is the current or a lingering root context.
func (v *vm) isRoot(id uint32) bool {
	_, lingering := v.lingering[id]
	return id == v.rootID || lingering || (id == v.ending && id != 0)
}

func (v *vm) close(ctx context.Context) {
	if v.closed {
		return
	}
	v.closed = true
	v.cancel()
	v.p.shared.forget(v)
	if v.mod != nil {
		v.mod.Close(ctx)
	}
}

// give copies b into guest memory allocated by the guest and writes the
// pointer and size; empty values are returned as 0/0 without allocating.
// encodePairs encodes pairs for the guest into a buffer the VM reuses: give
// copies it into guest memory at once. A buffer grown past 64 KiB by an
// unusually large map is not kept.
func (v *vm) encodePairs(pairs [][2]string) []byte {
	b := abi.AppendPairs(v.pairsBuf[:0], pairs)
	if cap(b) <= 64<<10 {
		v.pairsBuf = b
	}
	return b
}

func (v *vm) give(m api.Module, b []byte, ptrOut, sizeOut uint32) abi.Status {
	mem := m.Memory()
	if len(b) == 0 {
		if !mem.WriteUint32Le(ptrOut, 0) || !mem.WriteUint32Le(sizeOut, 0) {
			return abi.StatusInvalidMemoryAccess
		}
		return abi.StatusOK
	}
	prev := v.phase
	v.phase = phaseAlloc
	r, err := v.alloc.Call(v.ctx, uint64(len(b)))
	v.phase = prev
	if err != nil {
		panic(fmt.Sprintf("memory allocation trapped: %v", err))
	}
	ptr := uint32(r[0])
	if ptr == 0 || !mem.Write(ptr, b) {
		return abi.StatusInvalidMemoryAccess
	}
	if !mem.WriteUint32Le(ptrOut, ptr) || !mem.WriteUint32Le(sizeOut, uint32(len(b))) {
		return abi.StatusInvalidMemoryAccess
	}
	return abi.StatusOK
}
