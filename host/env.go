package host

import (
	"context"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/internal/abi"
)

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }

// read returns guest memory [p, p+n); an empty range is always readable,
// whatever p is (the guest passes 0/0 for empty values).
func read(m api.Module, p, n uint32) ([]byte, bool) {
	if n == 0 {
		return nil, true
	}
	b, ok := m.Memory().Read(p, n)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

// readString is read for a value the host keeps as a string: one copy, out
// of guest memory into the string, rather than two.
func readString(m api.Module, p, n uint32) (string, bool) {
	if n == 0 {
		return "", true
	}
	b, ok := m.Memory().Read(p, n)
	return string(b), ok
}

// initAllowed lists what a module may call while _initialize runs
// (proxy-wasm-cpp-host WasmBase::startVm); anything else traps.
var initAllowed = setOf("emscripten_notify_memory_growth", "proxy_log",
	"fd_write", "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_time_get", "clock_res_get",
	"random_get", "poll_oneoff", "fd_fdstat_get", "fd_fdstat_set_flags",
	"fd_advise", "fd_allocate", "fd_datasync", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
	"fd_filestat_set_times", "fd_pread", "fd_prestat_dir_name", "fd_prestat_get", "fd_pwrite", "fd_readdir",
	"fd_renumber", "fd_sync", "fd_tell",
	"path_create_directory", "path_filestat_get", "path_filestat_set_times", "path_link", "path_readlink",
	"path_remove_directory", "path_rename", "path_symlink", "path_unlink_file",
	"sock_accept", "sock_recv", "sock_send", "sock_shutdown")

// allocAllowed lists what proxy_on_memory_allocate (or malloc) may call
// (WasmBase::allocMemory); poll_oneoff is there for the Go runtime's GC.
var allocAllowed = setOf("proxy_log", "fd_write", "clock_time_get", "poll_oneoff")

// legacyInitAllowed and legacyAllocAllowed are the same lists in Envoy 1.33
// to 1.38 (proxy-wasm-cpp-host beb8a4e and before): much shorter, and
// without poll_oneoff in either.
var (
	legacyInitAllowed = setOf("proxy_log", "fd_write", "args_get", "args_sizes_get", "environ_get",
		"environ_sizes_get", "fd_prestat_get", "fd_prestat_dir_name", "clock_time_get", "random_get",
		"fd_fdstat_get", "fd_fdstat_set_flags")
	legacyAllocAllowed = setOf("proxy_log", "fd_write", "clock_time_get")
)

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

type hostFunc = func(context.Context, api.Module, []uint64)

func status(s []uint64, st abi.Status) { s[0] = uint64(st) }

// statusOf turns a memory write into a status.
func statusOf(ok bool) abi.Status {
	if ok {
		return abi.StatusOK
	}
	return abi.StatusInvalidMemoryAccess
}

func envFunc(name string) hostFunc {
	if f, ok := envFuncs[name]; ok {
		return f
	}
	panic("host: no implementation for env." + name)
}

var envFuncs = map[string]hostFunc{
	"pthread_equal": func(_ context.Context, _ api.Module, s []uint64) {
		if uint32(s[0]) == uint32(s[1]) {
			s[0] = 1
		} else {
			s[0] = 0
		}
	},
	"emscripten_notify_memory_growth": func(context.Context, api.Module, []uint64) {},

	"proxy_log": func(ctx context.Context, m api.Module, s []uint64) {
		if uint32(s[0]) > abi.LogCritical {
			status(s, abi.StatusBadArgument)
			return
		}
		msg, ok := read(m, uint32(s[1]), uint32(s[2]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		vmFrom(ctx).log(uint32(s[0]), string(msg))
		status(s, abi.StatusOK)
	},
	"proxy_get_log_level": func(ctx context.Context, m api.Module, s []uint64) {
		status(s, statusOf(m.Memory().WriteUint32Le(uint32(s[0]), vmFrom(ctx).p.cfg.logLevel)))
	},
	"proxy_get_current_time_nanoseconds": func(ctx context.Context, m api.Module, s []uint64) {
		status(s, statusOf(m.Memory().WriteUint64Le(uint32(s[0]), uint64(vmFrom(ctx).p.cfg.clock().UnixNano()))))
	},
	"proxy_set_tick_period_milliseconds": func(ctx context.Context, m api.Module, s []uint64) {
		vmFrom(ctx).setTickPeriod(time.Duration(uint32(s[0])) * time.Millisecond)
		status(s, abi.StatusOK)
	},

	// Buffers.
	"proxy_get_buffer_status": func(ctx context.Context, m api.Module, s []uint64) {
		if uint32(s[0]) > abi.BufferForeignFunctionArguments {
			status(s, abi.StatusBadArgument)
			return
		}
		b, found := vmFrom(ctx).buffer(uint32(s[0]))
		if !found {
			status(s, abi.StatusNotFound)
			return
		}
		mem := m.Memory()
		status(s, statusOf(mem.WriteUint32Le(uint32(s[1]), uint32(len(b))) && mem.WriteUint32Le(uint32(s[2]), 0)))
	},
	"proxy_get_buffer_bytes": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		if uint32(s[0]) > abi.BufferForeignFunctionArguments {
			status(s, abi.StatusBadArgument)
			return
		}
		b, found := v.buffer(uint32(s[0]))
		if !found {
			status(s, abi.StatusNotFound)
			return
		}
		start, n := uint64(uint32(s[1])), uint64(uint32(s[2]))
		if start > uint64(len(b)) {
			status(s, abi.StatusBadArgument)
			return
		}
		end := min(start+n, uint64(len(b)))
		status(s, v.give(m, b[start:end], uint32(s[3]), uint32(s[4])))
	},
	"proxy_set_buffer_bytes": func(ctx context.Context, m api.Module, s []uint64) {
		if uint32(s[0]) > abi.BufferForeignFunctionArguments {
			status(s, abi.StatusBadArgument)
			return
		}
		data, ok := read(m, uint32(s[3]), uint32(s[4]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		status(s, vmFrom(ctx).setBuffer(uint32(s[0]), uint32(s[1]), uint32(s[2]), data))
	},

	// Header maps.
	"proxy_get_header_map_pairs": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		hm := mapArg(v, s[0])
		if hm == nil {
			status(s, abi.StatusBadArgument)
			return
		}
		var enc []byte
		if len(*hm) > 0 {
			enc = v.encodePairs(*hm)
		}
		status(s, v.give(m, enc, uint32(s[1]), uint32(s[2])))
	},
	"proxy_set_header_map_pairs": func(ctx context.Context, m api.Module, s []uint64) {
		hm := mapArg(vmFrom(ctx), s[0])
		if hm == nil {
			status(s, abi.StatusBadArgument)
			return
		}
		buf, ok := read(m, uint32(s[1]), uint32(s[2]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		*hm = decodePairsLikeEnvoy(buf)
		status(s, abi.StatusOK)
	},
	"proxy_get_header_map_size": func(ctx context.Context, m api.Module, s []uint64) {
		hm := mapArg(vmFrom(ctx), s[0])
		if hm == nil {
			status(s, abi.StatusBadArgument)
			return
		}
		status(s, statusOf(m.Memory().WriteUint32Le(uint32(s[1]), uint32(abi.PairsSize(*hm)))))
	},
	"proxy_get_header_map_value": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		hm := mapArg(v, s[0])
		if hm == nil {
			status(s, abi.StatusBadArgument)
			return
		}
		k, ok := readString(m, uint32(s[1]), uint32(s[2]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		val, found := lookup(*hm, k)
		if !found {
			status(s, abi.StatusNotFound)
			return
		}
		status(s, v.give(m, []byte(val), uint32(s[3]), uint32(s[4])))
	},
	"proxy_add_header_map_value":     setHeader(false),
	"proxy_replace_header_map_value": setHeader(true),
	"proxy_remove_header_map_value": func(ctx context.Context, m api.Module, s []uint64) {
		hm := mapArg(vmFrom(ctx), s[0])
		if hm == nil {
			status(s, abi.StatusBadArgument)
			return
		}
		k, ok := readString(m, uint32(s[1]), uint32(s[2]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		removeKey(hm, k)
		status(s, abi.StatusOK)
	},

	// Stream control.
	"proxy_send_local_response": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		details, ok1 := read(m, uint32(s[1]), uint32(s[2]))
		body, ok2 := read(m, uint32(s[3]), uint32(s[4]))
		hbuf, ok3 := read(m, uint32(s[5]), uint32(s[6]))
		if !ok1 || !ok2 || !ok3 {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		st := v.streamInScope()
		if st == nil {
			// Envoy's root context has no stream to answer.
			status(s, abi.StatusBadArgument)
			return
		}
		if st.local == nil {
			st.local = &LocalResponse{Status: int(uint32(s[0])), Details: string(details), Body: body,
				Headers: decodePairsLikeEnvoy(hbuf), GRPCStatus: int32(uint32(s[7]))}
		}
		status(s, abi.StatusOK)
	},
	"proxy_continue_stream": func(ctx context.Context, m api.Module, s []uint64) {
		status(s, streamControl(vmFrom(ctx), uint32(s[0]), false))
	},
	"proxy_close_stream": func(ctx context.Context, m api.Module, s []uint64) {
		status(s, streamControl(vmFrom(ctx), uint32(s[0]), true))
	},
	"proxy_get_status": func(ctx context.Context, m api.Module, s []uint64) {
		// Envoy reports the status of the last gRPC call; this host makes no
		// gRPC calls, so it is always 0 with an empty message.
		if !m.Memory().WriteUint32Le(uint32(s[0]), 0) {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		status(s, vmFrom(ctx).give(m, nil, uint32(s[1]), uint32(s[2])))
	},
	"proxy_set_effective_context": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		id := uint32(s[0])
		if !v.isRoot(id) && (v.stream == nil || id != v.stream.id) {
			status(s, abi.StatusBadArgument)
			return
		}
		v.effective = id
		status(s, abi.StatusOK)
	},
	"proxy_done": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		id := v.context()
		if _, lingering := v.lingering[id]; !lingering {
			status(s, abi.StatusNotFound)
			return
		}
		v.lingering[id] = true // deleted once this callback returns
		status(s, abi.StatusOK)
	},

	// Properties.
	"proxy_get_property": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		path, ok := read(m, uint32(s[0]), uint32(s[1]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		val, found := v.property(string(path))
		if !found {
			status(s, abi.StatusNotFound)
			return
		}
		status(s, v.give(m, val, uint32(s[2]), uint32(s[3])))
	},
	"proxy_set_property": func(ctx context.Context, m api.Module, s []uint64) {
		path, ok1 := read(m, uint32(s[0]), uint32(s[1]))
		val, ok2 := read(m, uint32(s[2]), uint32(s[3]))
		if !ok1 || !ok2 {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		vmFrom(ctx).setProperty(string(path), val)
		status(s, abi.StatusOK)
	},

	// Metrics.
	"proxy_define_metric": func(ctx context.Context, m api.Module, s []uint64) {
		n, ok := read(m, uint32(s[1]), uint32(s[2]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		id, st := vmFrom(ctx).p.metrics.define(string(n), uint32(s[0]))
		if st == abi.StatusOK && !m.Memory().WriteUint32Le(uint32(s[3]), id) {
			st = abi.StatusInvalidMemoryAccess
		}
		status(s, st)
	},
	"proxy_increment_metric": func(ctx context.Context, m api.Module, s []uint64) {
		status(s, vmFrom(ctx).p.metrics.increment(uint32(s[0]), int64(s[1])))
	},
	"proxy_record_metric": func(ctx context.Context, m api.Module, s []uint64) {
		status(s, vmFrom(ctx).p.metrics.record(uint32(s[0]), s[1]))
	},
	"proxy_get_metric": func(ctx context.Context, m api.Module, s []uint64) {
		val, st := vmFrom(ctx).p.metrics.get(uint32(s[0]))
		if st == abi.StatusOK && !m.Memory().WriteUint64Le(uint32(s[1]), uint64(val)) {
			st = abi.StatusInvalidMemoryAccess
		}
		status(s, st)
	},

	// Foreign functions.
	"proxy_call_foreign_function": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		n, ok1 := read(m, uint32(s[0]), uint32(s[1]))
		arg, ok2 := read(m, uint32(s[2]), uint32(s[3]))
		if !ok1 || !ok2 {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		fn, found := v.p.cfg.foreign[string(n)]
		if !found {
			status(s, abi.StatusNotFound)
			return
		}
		out, err := fn(arg)
		if err != nil {
			v.log(abi.LogError, "foreign function "+string(n)+": "+err.Error())
			status(s, abi.StatusInternalFailure)
			return
		}
		status(s, v.give(m, out, uint32(s[4]), uint32(s[5])))
	},

	// Shared data and queues.
	"proxy_get_shared_data": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		k, ok := read(m, uint32(s[0]), uint32(s[1]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		val, cas, found := v.p.shared.get(string(k))
		if !found {
			status(s, abi.StatusNotFound)
			return
		}
		if st := v.give(m, val, uint32(s[2]), uint32(s[3])); st != abi.StatusOK {
			status(s, st)
			return
		}
		status(s, statusOf(m.Memory().WriteUint32Le(uint32(s[4]), cas)))
	},
	"proxy_set_shared_data": func(ctx context.Context, m api.Module, s []uint64) {
		k, ok1 := read(m, uint32(s[0]), uint32(s[1]))
		val, ok2 := read(m, uint32(s[2]), uint32(s[3]))
		if !ok1 || !ok2 {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		status(s, vmFrom(ctx).p.shared.set(string(k), val, uint32(s[4])))
	},
	"proxy_register_shared_queue": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		n, ok := read(m, uint32(s[0]), uint32(s[1]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		// The queue notifies the root context that registers it (the
		// root of a stream that registers).
		root := v.context()
		if !v.isRoot(root) {
			root = v.rootID
		}
		tok := v.p.shared.queues().register(v.p.cfg.vmID, string(n), v, root)
		status(s, statusOf(m.Memory().WriteUint32Le(uint32(s[2]), tok)))
	},
	"proxy_resolve_shared_queue": func(ctx context.Context, m api.Module, s []uint64) {
		id, ok1 := read(m, uint32(s[0]), uint32(s[1]))
		n, ok2 := read(m, uint32(s[2]), uint32(s[3]))
		if !ok1 || !ok2 {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		tok, found := vmFrom(ctx).p.shared.queues().resolve(string(id), string(n))
		if !found {
			status(s, abi.StatusNotFound)
			return
		}
		status(s, statusOf(m.Memory().WriteUint32Le(uint32(s[4]), tok)))
	},
	"proxy_enqueue_shared_queue": func(ctx context.Context, m api.Module, s []uint64) {
		data, ok := read(m, uint32(s[1]), uint32(s[2]))
		if !ok {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		status(s, vmFrom(ctx).p.shared.queues().enqueue(uint32(s[0]), data))
	},
	"proxy_dequeue_shared_queue": func(ctx context.Context, m api.Module, s []uint64) {
		data, st := vmFrom(ctx).p.shared.queues().dequeue(uint32(s[0]))
		if st != abi.StatusOK {
			status(s, st)
			return
		}
		status(s, vmFrom(ctx).give(m, data, uint32(s[1]), uint32(s[2])))
	},

	// Callouts.
	"proxy_http_call": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		up, ok1 := read(m, uint32(s[0]), uint32(s[1]))
		hb, ok2 := read(m, uint32(s[2]), uint32(s[3]))
		body, ok3 := read(m, uint32(s[4]), uint32(s[5]))
		tb, ok4 := read(m, uint32(s[6]), uint32(s[7]))
		// Like Envoy, write the token slot first to prove it is writable.
		if !ok1 || !ok2 || !ok3 || !ok4 || !m.Memory().WriteUint32Le(uint32(s[9]), 0) {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		tok, st := v.httpCall(string(up), decodePairsLikeEnvoy(hb), body, decodePairsLikeEnvoy(tb), uint32(s[8]))
		m.Memory().WriteUint32Le(uint32(s[9]), tok)
		status(s, st)
	},
	"envoy_resolve_dns": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		name, ok := read(m, uint32(s[0]), uint32(s[1]))
		if !ok || !m.Memory().WriteUint32Le(uint32(s[2]), 0) {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		m.Memory().WriteUint32Le(uint32(s[2]), v.resolveDNS(string(name)))
		status(s, abi.StatusOK)
	},
	// gRPC is not offered; after checking the guest's memory like Envoy,
	// every gRPC function answers UNIMPLEMENTED.
	"proxy_grpc_call":   grpcUnimplemented(0, 2, 4, 6, 8),
	"proxy_grpc_stream": grpcUnimplemented(0, 2, 4, 6),
	"proxy_grpc_send":   grpcUnimplemented(1),
	"proxy_grpc_cancel": grpcUnimplemented(),
	"proxy_grpc_close":  grpcUnimplemented(),
}

// mapArg resolves a map-type argument; types above the last one are
// BAD_ARGUMENT like unavailable maps.
func mapArg(v *vm, t uint64) *[][2]string {
	if uint32(t) > abi.MapHTTPCallResponseTrailers {
		return nil
	}
	return v.headerMap(uint32(t))
}

func setHeader(replace bool) hostFunc {
	return func(ctx context.Context, m api.Module, s []uint64) {
		hm := mapArg(vmFrom(ctx), s[0])
		if hm == nil {
			status(s, abi.StatusBadArgument)
			return
		}
		key, ok1 := readString(m, uint32(s[1]), uint32(s[2]))
		val, ok2 := readString(m, uint32(s[3]), uint32(s[4]))
		if !ok1 || !ok2 {
			status(s, abi.StatusInvalidMemoryAccess)
			return
		}
		if replace {
			removeKey(hm, key)
		}
		*hm = append(*hm, [2]string{lowerName(key), val})
		status(s, abi.StatusOK)
	}
}

// streamControl implements continue_stream and close_stream for the HTTP
// request and response of the stream in scope. Stream types above UPSTREAM
// are BAD_ARGUMENT; the TCP types have nothing to act on in an HTTP filter.
func streamControl(v *vm, t uint32, closeIt bool) abi.Status {
	if t > abi.StreamUpstream {
		return abi.StatusBadArgument
	}
	st := v.streamInScope()
	if st == nil || t > abi.StreamHTTPResponse {
		return abi.StatusBadArgument
	}
	if closeIt {
		st.reset = true
	} else {
		st.resumed = true
	}
	return abi.StatusOK
}

// grpcUnimplemented checks the (ptr, size) argument pairs starting at the
// given indexes, then answers UNIMPLEMENTED.
func grpcUnimplemented(pairs ...int) hostFunc {
	return func(ctx context.Context, m api.Module, s []uint64) {
		for _, i := range pairs {
			if _, ok := read(m, uint32(s[i]), uint32(s[i+1])); !ok {
				status(s, abi.StatusInvalidMemoryAccess)
				return
			}
		}
		status(s, abi.StatusUnimplemented)
	}
}
