package host

import (
	"context"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/tokengate/tokengate/internal/abi"
)

func itoa(u uint32) string { return strconv.FormatUint(uint64(u), 10) }

func read(m api.Module, p, n uint32) (string, bool) {
	if n == 0 {
		return "", true
	}
	b, ok := m.Memory().Read(p, n)
	return string(b), ok
}

// restrictedOK are the functions a module may call while it initialises or
// allocates memory; anything else traps, as V8's restricted callback does.
var restrictedOK = map[string]bool{
	"fd_write": true, "clock_time_get": true, "random_get": true, "environ_get": true, "environ_sizes_get": true,
	"args_get": true, "args_sizes_get": true, "proc_exit": true, "poll_oneoff": true, "sched_yield": true,
	"fd_fdstat_get": true, "fd_fdstat_set_flags": true, "fd_close": true, "fd_seek": true, "fd_read": true, "fd_prestat_get": true,
	"fd_prestat_dir_name": true, "clock_res_get": true, "emscripten_notify_memory_growth": true, "proxy_log": true,
}

func envFunc(name string) func(context.Context, api.Module, []uint64) {
	ok := func(s []uint64) { s[0] = uint64(abi.StatusOK) }
	switch name {
	case "pthread_equal":
		return func(_ context.Context, _ api.Module, s []uint64) {
			if uint32(s[0]) == uint32(s[1]) {
				s[0] = 1
			} else {
				s[0] = 0
			}
		}
	case "emscripten_notify_memory_growth":
		return func(context.Context, api.Module, []uint64) {}
	case "proxy_log":
		return func(ctx context.Context, m api.Module, s []uint64) {
			msg, good := read(m, uint32(s[1]), uint32(s[2]))
			if !good {
				s[0] = uint64(abi.StatusInvalidMemoryAccess)
				return
			}
			vmFrom(ctx).log(uint32(s[0]), msg)
			ok(s)
		}
	case "proxy_get_log_level":
		return func(ctx context.Context, m api.Module, s []uint64) {
			m.Memory().WriteUint32Le(uint32(s[0]), vmFrom(ctx).p.cfg.logLevel)
			ok(s)
		}
	case "proxy_get_current_time_nanoseconds":
		return func(ctx context.Context, m api.Module, s []uint64) {
			m.Memory().WriteUint64Le(uint32(s[0]), uint64(vmFrom(ctx).p.cfg.clock().UnixNano()))
			ok(s)
		}
	case "proxy_get_buffer_status":
		return func(ctx context.Context, m api.Module, s []uint64) {
			b, found := vmFrom(ctx).buffer(uint32(s[0]))
			if !found {
				s[0] = uint64(abi.StatusNotFound)
				return
			}
			m.Memory().WriteUint32Le(uint32(s[1]), uint32(len(b)))
			m.Memory().WriteUint32Le(uint32(s[2]), 0)
			ok(s)
		}
	case "proxy_get_buffer_bytes":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			b, found := v.buffer(uint32(s[0]))
			if !found {
				s[0] = uint64(abi.StatusNotFound)
				return
			}
			start, n := uint64(uint32(s[1])), uint64(uint32(s[2]))
			if start > uint64(len(b)) {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			end := min(start+n, uint64(len(b)))
			s[0] = uint64(v.give(m, b[start:end], uint32(s[3]), uint32(s[4])))
		}
	case "proxy_set_buffer_bytes":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			data, good := read(m, uint32(s[3]), uint32(s[4]))
			if !good {
				s[0] = uint64(abi.StatusInvalidMemoryAccess)
				return
			}
			s[0] = uint64(v.setBuffer(uint32(s[0]), int(uint32(s[1])), int(uint32(s[2])), data))
		}
	case "proxy_get_header_map_pairs":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			hm := v.headerMap(uint32(s[0]))
			if hm == nil {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			if len(*hm) == 0 {
				s[0] = uint64(v.give(m, nil, uint32(s[1]), uint32(s[2])))
				return
			}
			s[0] = uint64(v.give(m, abi.EncodePairs(*hm), uint32(s[1]), uint32(s[2])))
		}
	case "proxy_set_header_map_pairs":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			hm := v.headerMap(uint32(s[0]))
			buf, good := m.Memory().Read(uint32(s[1]), uint32(s[2]))
			if hm == nil || !good {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			pairs, err := abi.DecodePairs(buf)
			if err != nil {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			for i := range pairs {
				pairs[i][0] = strings.ToLower(pairs[i][0])
			}
			*hm = pairs
			ok(s)
		}
	case "proxy_get_header_map_size":
		return func(ctx context.Context, m api.Module, s []uint64) {
			hm := vmFrom(ctx).headerMap(uint32(s[0]))
			if hm == nil {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			m.Memory().WriteUint32Le(uint32(s[1]), uint32(abi.PairsSize(*hm)))
			ok(s)
		}
	case "proxy_get_header_map_value":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			hm := v.headerMap(uint32(s[0]))
			k, good := read(m, uint32(s[1]), uint32(s[2]))
			if hm == nil || !good {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			k = strings.ToLower(k)
			for _, p := range *hm {
				if p[0] == k {
					s[0] = uint64(v.give(m, []byte(p[1]), uint32(s[3]), uint32(s[4])))
					return
				}
			}
			s[0] = uint64(abi.StatusNotFound)
		}
	case "proxy_add_header_map_value", "proxy_replace_header_map_value":
		replace := name == "proxy_replace_header_map_value"
		return func(ctx context.Context, m api.Module, s []uint64) {
			hm := vmFrom(ctx).headerMap(uint32(s[0]))
			k, g1 := read(m, uint32(s[1]), uint32(s[2]))
			val, g2 := read(m, uint32(s[3]), uint32(s[4]))
			if hm == nil || !g1 || !g2 {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			k = strings.ToLower(k)
			if replace {
				removeKey(hm, k)
			}
			*hm = append(*hm, [2]string{k, val})
			ok(s)
		}
	case "proxy_remove_header_map_value":
		return func(ctx context.Context, m api.Module, s []uint64) {
			hm := vmFrom(ctx).headerMap(uint32(s[0]))
			k, good := read(m, uint32(s[1]), uint32(s[2]))
			if hm == nil || !good {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			removeKey(hm, strings.ToLower(k))
			ok(s)
		}
	case "proxy_send_local_response":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			details, g1 := read(m, uint32(s[1]), uint32(s[2]))
			body, g2 := read(m, uint32(s[3]), uint32(s[4]))
			var hdrs [][2]string
			if uint32(s[6]) > 0 {
				buf, good := m.Memory().Read(uint32(s[5]), uint32(s[6]))
				var err error
				if hdrs, err = abi.DecodePairs(buf); !good || err != nil {
					s[0] = uint64(abi.StatusBadArgument)
					return
				}
			}
			if !g1 || !g2 || v.stream == nil {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			v.stream.local = &LocalResponse{Status: int(uint32(s[0])), Details: details, Body: []byte(body), Headers: hdrs}
			ok(s)
		}
	case "proxy_get_property":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			path, good := read(m, uint32(s[0]), uint32(s[1]))
			if !good {
				s[0] = uint64(abi.StatusInvalidMemoryAccess)
				return
			}
			val, found := v.property(strings.Split(strings.TrimSuffix(path, "\x00"), "\x00"))
			if !found {
				s[0] = uint64(abi.StatusNotFound)
				return
			}
			s[0] = uint64(v.give(m, val, uint32(s[2]), uint32(s[3])))
		}
	case "proxy_set_property":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			path, g1 := read(m, uint32(s[0]), uint32(s[1]))
			val, g2 := read(m, uint32(s[2]), uint32(s[3]))
			if !g1 || !g2 {
				s[0] = uint64(abi.StatusInvalidMemoryAccess)
				return
			}
			v.props[path] = []byte(val)
			ok(s)
		}
	case "proxy_set_effective_context", "proxy_done", "proxy_continue_stream", "proxy_close_stream",
		"proxy_set_tick_period_milliseconds":
		return func(ctx context.Context, m api.Module, s []uint64) { ok(s) }
	case "proxy_get_status":
		return func(ctx context.Context, m api.Module, s []uint64) {
			m.Memory().WriteUint32Le(uint32(s[0]), 0)
			vmFrom(ctx).give(m, nil, uint32(s[1]), uint32(s[2]))
			ok(s)
		}
	case "proxy_define_metric":
		return func(ctx context.Context, m api.Module, s []uint64) {
			n, good := read(m, uint32(s[1]), uint32(s[2]))
			if !good || uint32(s[0]) > abi.MetricHistogram {
				s[0] = uint64(abi.StatusBadArgument)
				return
			}
			id := vmFrom(ctx).p.metrics.define(n, uint32(s[0]))
			m.Memory().WriteUint32Le(uint32(s[3]), id)
			ok(s)
		}
	case "proxy_increment_metric", "proxy_record_metric":
		inc := name == "proxy_increment_metric"
		return func(ctx context.Context, m api.Module, s []uint64) {
			s[0] = uint64(vmFrom(ctx).p.metrics.update(uint32(s[0]), int64(s[1]), inc))
		}
	case "proxy_get_metric":
		return func(ctx context.Context, m api.Module, s []uint64) {
			val, st := vmFrom(ctx).p.metrics.get(uint32(s[0]))
			if st == abi.StatusOK {
				m.Memory().WriteUint64Le(uint32(s[1]), uint64(val))
			}
			s[0] = uint64(st)
		}
	case "proxy_call_foreign_function":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			n, g1 := read(m, uint32(s[0]), uint32(s[1]))
			arg, g2 := read(m, uint32(s[2]), uint32(s[3]))
			if !g1 || !g2 {
				s[0] = uint64(abi.StatusInvalidMemoryAccess)
				return
			}
			fn, found := v.p.cfg.foreign[n]
			if !found {
				s[0] = uint64(abi.StatusNotFound)
				return
			}
			out, err := fn([]byte(arg))
			if err != nil {
				v.log(abi.LogError, "foreign function "+n+": "+err.Error())
				s[0] = uint64(abi.StatusInternalFailure)
				return
			}
			s[0] = uint64(v.give(m, out, uint32(s[4]), uint32(s[5])))
		}
	case "proxy_get_shared_data":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			k, good := read(m, uint32(s[0]), uint32(s[1]))
			if !good {
				s[0] = uint64(abi.StatusInvalidMemoryAccess)
				return
			}
			val, cas, found := v.p.shared.get(k)
			if !found {
				s[0] = uint64(abi.StatusNotFound)
				return
			}
			m.Memory().WriteUint32Le(uint32(s[4]), cas)
			s[0] = uint64(v.give(m, val, uint32(s[2]), uint32(s[3])))
		}
	case "proxy_set_shared_data":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			k, g1 := read(m, uint32(s[0]), uint32(s[1]))
			val, g2 := read(m, uint32(s[2]), uint32(s[3]))
			if !g1 || !g2 {
				s[0] = uint64(abi.StatusInvalidMemoryAccess)
				return
			}
			s[0] = uint64(v.p.shared.set(k, []byte(val), uint32(s[4])))
		}
	}
	// Queues, HTTP and gRPC calls and DNS are not offered: the guest is told so.
	return func(ctx context.Context, m api.Module, s []uint64) { s[0] = uint64(abi.StatusUnimplemented) }
}

func removeKey(hm *[][2]string, k string) {
	out := (*hm)[:0]
	for _, p := range *hm {
		if p[0] != k {
			out = append(out, p)
		}
	}
	*hm = out
}
