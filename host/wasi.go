package host

import (
	"context"
	"crypto/rand"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// WASI errno values the host returns.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoFault   = 21
	errnoNotdir  = 20
	errnoInval   = 28
	errnoNoent   = 44
	errnoNosys   = 52
	errnoNotsup  = 58
)

const maxRandomBytes = 64 << 10

// wasiFunc returns the host's wasi_snapshot_preview1 function name,
// behaving like proxy-wasm-cpp-host (Envoy >= 1.39): stdout and stderr go
// to the log, clocks and randomness work, poll_oneoff never sleeps, and
// there is no file system.
func wasiFunc(name string) hostFunc {
	if f, ok := wasiFuncs[name]; ok {
		return f
	}
	panic("host: no implementation for wasi_snapshot_preview1." + name)
}

func errno(e uint64) hostFunc {
	return func(_ context.Context, _ api.Module, s []uint64) { s[0] = e }
}

var wasiFuncs = map[string]hostFunc{
	"fd_write": func(ctx context.Context, m api.Module, s []uint64) {
		v := vmFrom(ctx)
		fd, iovs, n, out := uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
		level := uint32(2) // stdout: info
		switch fd {
		case 1:
		case 2:
			level = 4 // stderr: error
		default:
			s[0] = errnoBadf
			return
		}
		var b strings.Builder
		mem := m.Memory()
		for i := range n {
			p, ok1 := mem.ReadUint32Le(iovs + i*8)
			l, ok2 := mem.ReadUint32Le(iovs + i*8 + 4)
			data, ok3 := read(m, p, l)
			if !ok1 || !ok2 || !ok3 {
				s[0] = errnoFault
				return
			}
			b.Write(data)
		}
		if b.Len() > 0 {
			v.log(level, strings.TrimSuffix(b.String(), "\n"))
		}
		if !mem.WriteUint32Le(out, uint32(b.Len())) {
			s[0] = errnoFault
			return
		}
		s[0] = errnoSuccess
	},
	"clock_time_get": func(ctx context.Context, m api.Module, s []uint64) {
		p := vmFrom(ctx).p
		var ns uint64
		switch uint32(s[0]) {
		case 0: // realtime
			ns = uint64(p.cfg.clock().UnixNano())
		case 1:
			ns = p.monotonic()
		default:
			s[0] = errnoNotsup
			return
		}
		if !m.Memory().WriteUint64Le(uint32(s[2]), ns) {
			s[0] = errnoFault
			return
		}
		s[0] = errnoSuccess
	},
	"clock_res_get": func(ctx context.Context, m api.Module, s []uint64) {
		if uint32(s[0]) > 1 {
			s[0] = errnoNotsup
			return
		}
		if !m.Memory().WriteUint64Le(uint32(s[1]), 1) {
			s[0] = errnoFault
			return
		}
		s[0] = errnoSuccess
	},
	"random_get": func(ctx context.Context, m api.Module, s []uint64) {
		p, l := uint32(s[0]), uint32(s[1])
		if l > maxRandomBytes {
			s[0] = errnoInval
			return
		}
		buf := make([]byte, l)
		rand.Read(buf)
		if l > 0 && !m.Memory().Write(p, buf) {
			s[0] = errnoFault
			return
		}
		s[0] = errnoSuccess
	},
	"environ_sizes_get": func(ctx context.Context, m api.Module, s []uint64) {
		env := vmFrom(ctx).p.environ
		size := 0
		for _, e := range env {
			size += len(e) + 1
		}
		if !m.Memory().WriteUint32Le(uint32(s[0]), uint32(len(env))) || !m.Memory().WriteUint32Le(uint32(s[1]), uint32(size)) {
			s[0] = errnoFault
			return
		}
		s[0] = errnoSuccess
	},
	"environ_get": func(ctx context.Context, m api.Module, s []uint64) {
		env := vmFrom(ctx).p.environ
		ptrs, buf := uint32(s[0]), uint32(s[1])
		for i, e := range env {
			if !m.Memory().WriteUint32Le(ptrs+uint32(i)*4, buf) || !m.Memory().Write(buf, append([]byte(e), 0)) {
				s[0] = errnoFault
				return
			}
			buf += uint32(len(e)) + 1
		}
		s[0] = errnoSuccess
	},
	"args_sizes_get": func(ctx context.Context, m api.Module, s []uint64) {
		if !m.Memory().WriteUint32Le(uint32(s[0]), 0) || !m.Memory().WriteUint32Le(uint32(s[1]), 0) {
			s[0] = errnoFault
			return
		}
		s[0] = errnoSuccess
	},
	"args_get":    errno(errnoSuccess),
	"sched_yield": errno(errnoSuccess),
	// poll_oneoff reports no events at once and never sleeps: Envoy cannot
	// block a worker thread, and a Go module's sleeps become busy loops.
	"poll_oneoff": func(ctx context.Context, m api.Module, s []uint64) {
		if !m.Memory().WriteUint32Le(uint32(s[3]), 0) {
			s[0] = errnoFault
			return
		}
		s[0] = errnoSuccess
	},
	"proc_exit": func(ctx context.Context, m api.Module, s []uint64) {
		vmFrom(ctx).log(4, "wasi proc_exit called with code "+itoa(uint32(s[0])))
	},
	"fd_fdstat_get": func(ctx context.Context, m api.Module, s []uint64) {
		if fd := uint32(s[0]); fd != 1 && fd != 2 {
			s[0] = errnoBadf
			return
		}
		// Filetype 0, flags 0, rights FD_WRITE, like cpp-host.
		var st [24]byte
		st[8] = 64
		if !m.Memory().Write(uint32(s[1]), st[:]) {
			s[0] = errnoFault
			return
		}
		s[0] = errnoSuccess
	},
	"fd_seek": func(ctx context.Context, m api.Module, s []uint64) {
		vmFrom(ctx).log(4, "wasi fd_seek is not supported")
		s[0] = errnoSuccess
	},
	"fd_close": func(ctx context.Context, m api.Module, s []uint64) {
		vmFrom(ctx).log(4, "wasi fd_close is not supported")
		s[0] = errnoSuccess
	},
	"fd_fdstat_set_flags":  errno(errnoNosys),
	"fd_prestat_dir_name":  errno(errnoNosys),
	"fd_read":              errno(errnoNosys),
	"fd_pread":             errno(errnoNosys),
	"fd_prestat_get":       errno(errnoBadf), // no preopens: Go's preopen scan stops here
	"fd_filestat_get":      errno(errnoBadf),
	"fd_readdir":           errno(errnoNotdir),
	"path_open":            errno(errnoNoent),
	"path_filestat_get":    errno(errnoNotsup),
	"fd_advise":            errno(errnoBadf),
	"fd_allocate":          errno(errnoBadf),
	"fd_datasync":          errno(errnoBadf),
	"fd_sync":              errno(errnoBadf),
	"fd_tell":              errno(errnoBadf),
	"fd_renumber":          errno(errnoBadf),
	"fd_pwrite":            errno(errnoBadf),
	"fd_fdstat_set_rights": errno(errnoBadf),
	"fd_filestat_set_size": errno(errnoBadf),
	// The remaining file-system and socket functions have nothing to act on.
	"fd_filestat_set_times":   errno(errnoBadf),
	"path_create_directory":   errno(errnoNotsup),
	"path_filestat_set_times": errno(errnoNotsup),
	"path_link":               errno(errnoNotsup),
	"path_readlink":           errno(errnoNotsup),
	"path_remove_directory":   errno(errnoNotsup),
	"path_rename":             errno(errnoNotsup),
	"path_symlink":            errno(errnoNotsup),
	"path_unlink_file":        errno(errnoNotsup),
	"sock_accept":             errno(errnoNotsup),
	"sock_recv":               errno(errnoNotsup),
	"sock_send":               errno(errnoNotsup),
	"sock_shutdown":           errno(errnoNotsup),
}
