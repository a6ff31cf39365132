package host

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/internal/abi"
)

type vmKey struct{}

// vm is one module instance; it serves one stream at a time.
type vm struct {
	p          *Plugin
	gen        *generation
	mod        api.Module
	alloc      api.Function
	ctx        context.Context
	restricted bool
	broken     bool
	nextID     uint32
	rootID     uint32
	config     []byte
	props      map[string][]byte
	stream     *Stream
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

func (p *Plugin) newVM(ctx context.Context, cfg []byte) (*vm, error) {
	v := &vm{p: p, nextID: 1, config: cfg, props: map[string][]byte{}}
	v.ctx = context.WithValue(context.Background(), vmKey{}, v)
	v.restricted = true
	p.mu.Lock()
	p.counter++
	n := p.counter
	p.mu.Unlock()
	mod, err := p.rt.InstantiateModule(v.ctx, p.compiled,
		wazero.NewModuleConfig().WithName(fmt.Sprintf("vm-%d", n)).WithStartFunctions("_initialize"))
	v.restricted = false
	if err != nil {
		return nil, fmt.Errorf("host: instantiate plugin: %w", err)
	}
	v.mod = mod
	if v.alloc = mod.ExportedFunction("malloc"); v.alloc == nil {
		v.alloc = mod.ExportedFunction("proxy_on_memory_allocate")
	}
	if v.alloc == nil {
		v.close(ctx)
		return nil, fmt.Errorf("host: plugin exports neither malloc nor proxy_on_memory_allocate")
	}
	v.rootID = v.newID()
	if _, err := v.call("proxy_on_context_create", uint64(v.rootID), 0); err != nil {
		v.close(ctx)
		return nil, err
	}
	if r, err := v.call("proxy_on_vm_start", uint64(v.rootID), 0); err != nil || (r != nil && r[0] == 0) {
		v.close(ctx)
		return nil, fmt.Errorf("host: plugin refused to start (proxy_on_vm_start): %v", err)
	}
	r, err := v.call("proxy_on_configure", uint64(v.rootID), uint64(len(cfg)))
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

// call runs an export if the module has it; a trap marks the VM broken.
func (v *vm) call(name string, args ...uint64) ([]uint64, error) {
	f := v.mod.ExportedFunction(name)
	if f == nil {
		return nil, nil
	}
	r, err := f.Call(v.ctx, args...)
	if err != nil {
		v.broken = true
		return nil, fmt.Errorf("host: %s trapped: %w", name, err)
	}
	return r, nil
}

// retire ends the root context of a VM whose configuration was replaced, then closes it.
func (v *vm) retire(ctx context.Context) {
	if !v.broken && v.mod != nil {
		if _, err := v.call("proxy_on_done", uint64(v.rootID)); err == nil {
			v.call("proxy_on_delete", uint64(v.rootID))
		}
	}
	v.close(ctx)
}

func (v *vm) close(ctx context.Context) {
	if v.mod != nil {
		v.mod.Close(ctx)
	}
}

// give copies b into guest memory allocated by the guest and writes the
// pointer and size; empty values are returned as 0/0 without allocating.
func (v *vm) give(m api.Module, b []byte, ptrOut, sizeOut uint32) abi.Status {
	if len(b) == 0 {
		m.Memory().WriteUint32Le(ptrOut, 0)
		m.Memory().WriteUint32Le(sizeOut, 0)
		return abi.StatusOK
	}
	v.restricted = true
	r, err := v.alloc.Call(v.ctx, uint64(len(b)))
	v.restricted = false
	if err != nil {
		panic(fmt.Sprintf("memory allocation trapped: %v", err))
	}
	ptr := uint32(r[0])
	if ptr == 0 || !m.Memory().Write(ptr, b) {
		return abi.StatusInvalidMemoryAccess
	}
	m.Memory().WriteUint32Le(ptrOut, ptr)
	m.Memory().WriteUint32Le(sizeOut, uint32(len(b)))
	return abi.StatusOK
}

func (v *vm) buffer(t uint32) ([]byte, bool) {
	switch t {
	case abi.BufferPluginConfiguration:
		return v.config, true
	case abi.BufferVMConfiguration:
		return nil, true
	case abi.BufferHTTPRequestBody:
		if v.stream != nil {
			return v.stream.reqBody, true
		}
	case abi.BufferHTTPResponseBody:
		if v.stream != nil {
			return v.stream.respBody, true
		}
	}
	return nil, false
}

func (v *vm) setBuffer(t uint32, start, n int, data string) abi.Status {
	var b *[]byte
	if v.stream != nil && t == abi.BufferHTTPRequestBody {
		b = &v.stream.reqBody
	} else if v.stream != nil && t == abi.BufferHTTPResponseBody {
		b = &v.stream.respBody
	} else {
		return abi.StatusNotFound
	}
	if start > len(*b) {
		return abi.StatusBadArgument
	}
	end := min(start+n, len(*b))
	nb := append(append(append([]byte(nil), (*b)[:start]...), data...), (*b)[end:]...)
	*b = nb
	return abi.StatusOK
}

func (v *vm) headerMap(t uint32) *[][2]string {
	if v.stream == nil {
		return nil
	}
	switch t {
	case abi.MapHTTPRequestHeaders:
		return &v.stream.reqHeaders
	case abi.MapHTTPRequestTrailers:
		return &v.stream.reqTrailers
	case abi.MapHTTPResponseHeaders:
		return &v.stream.respHeaders
	case abi.MapHTTPResponseTrailers:
		return &v.stream.respTrailers
	}
	return nil
}

func (v *vm) property(path []string) ([]byte, bool) {
	key := strings.Join(path, ".")
	if b, ok := v.props[strings.Join(path, "\x00")]; ok {
		return b, true
	}
	header := func(name string) ([]byte, bool) {
		if v.stream == nil {
			return nil, false
		}
		for _, h := range v.stream.reqHeaders {
			if h[0] == name {
				return []byte(h[1]), true
			}
		}
		return nil, false
	}
	switch key {
	case "plugin_name":
		return []byte(v.p.cfg.name), true
	case "plugin_root_id":
		return []byte(v.p.cfg.rootID), true
	case "plugin_vm_id":
		return []byte(v.p.cfg.vmID), true
	case "request.path":
		return header(":path")
	case "request.method":
		return header(":method")
	case "request.host":
		return header(":authority")
	case "request.scheme":
		return header(":scheme")
	}
	if len(path) == 3 && path[0] == "request" && path[1] == "headers" {
		return header(strings.ToLower(path[2]))
	}
	return nil, false
}

// metricStore holds plugin-defined metrics shared by all VMs of a plugin.
type metricStore struct {
	mu    sync.Mutex
	ids   map[string]uint32
	names []string
	kinds []uint32
	vals  []int64
}

func newMetricStore() *metricStore { return &metricStore{ids: map[string]uint32{}} }

func (s *metricStore) define(name string, kind uint32) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.ids[name]; ok {
		return id
	}
	s.names, s.kinds, s.vals = append(s.names, name), append(s.kinds, kind), append(s.vals, 0)
	id := uint32(len(s.names))
	s.ids[name] = id
	return id
}

func (s *metricStore) update(id uint32, d int64, inc bool) abi.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 || int(id) > len(s.vals) {
		return abi.StatusNotFound
	}
	if inc {
		if s.kinds[id-1] == abi.MetricHistogram {
			return abi.StatusBadArgument
		}
		s.vals[id-1] += d
	} else {
		s.vals[id-1] = d
	}
	return abi.StatusOK
}

func (s *metricStore) get(id uint32) (int64, abi.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 || int(id) > len(s.vals) {
		return 0, abi.StatusNotFound
	}
	return s.vals[id-1], abi.StatusOK
}

// Metrics returns a snapshot of the plugin-defined metrics by name.
func (p *Plugin) Metrics() map[string]int64 {
	s := p.metrics
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.names))
	for i, n := range s.names {
		out[n] = s.vals[i]
	}
	return out
}

// sharedData is the key-value store shared by VMs with the same vm_id.
type sharedData struct {
	mu sync.Mutex
	kv map[string]sharedEntry
}

type sharedEntry struct {
	val []byte
	cas uint32
}

var (
	sharedMu    sync.Mutex
	sharedByVMs = map[string]*sharedData{}
)

func sharedFor(vmID string) *sharedData {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if s, ok := sharedByVMs[vmID]; ok {
		return s
	}
	s := &sharedData{kv: map[string]sharedEntry{}}
	sharedByVMs[vmID] = s
	return s
}

func (s *sharedData) get(k string) ([]byte, uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.kv[k]
	return e.val, e.cas, ok
}

func (s *sharedData) set(k string, v []byte, cas uint32) abi.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.kv[k]
	if cas != 0 && cas != e.cas {
		return abi.StatusCASMismatch
	}
	s.kv[k] = sharedEntry{val: v, cas: e.cas + 1}
	return abi.StatusOK
}
