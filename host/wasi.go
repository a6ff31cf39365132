package host

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"strings"

	"github.com/tetratelabs/wazero/api"
)

// WASI errno values used by the host.
const (
	errnoSuccess = 0
	errnoBadf    = 8
	errnoInval   = 28
	errnoNoent   = 44
	errnoNosys   = 52
)

const maxRandomBytes = 64 << 10

func wasiFunc(name string) func(context.Context, api.Module, []uint64) {
	switch name {
	case "fd_write":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			fd, iovs, n, out := uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
			if fd != 1 && fd != 2 {
				s[0] = errnoBadf
				return
			}
			var b strings.Builder
			mem := m.Memory()
			for i := uint32(0); i < n; i++ {
				p, _ := mem.ReadUint32Le(iovs + i*8)
				l, _ := mem.ReadUint32Le(iovs + i*8 + 4)
				data, ok := mem.Read(p, l)
				if !ok {
					s[0] = errnoInval
					return
				}
				b.Write(data)
			}
			lvl := uint32(2)
			if fd == 2 {
				lvl = 4
			}
			v.log(lvl, strings.TrimRight(b.String(), "\n"))
			mem.WriteUint32Le(out, uint32(b.Len()))
			s[0] = errnoSuccess
		}
	case "clock_time_get":
		return func(ctx context.Context, m api.Module, s []uint64) {
			v := vmFrom(ctx)
			var ns uint64
			switch uint32(s[0]) {
			case 0:
				ns = uint64(v.p.cfg.clock().UnixNano())
			case 1:
				ns = uint64(v.p.cfg.clock().Sub(v.p.start)) + uint64(v.p.start.UnixNano())
			default:
				s[0] = errnoInval
				return
			}
			m.Memory().WriteUint64Le(uint32(s[2]), ns)
			s[0] = errnoSuccess
		}
	case "clock_res_get":
		return func(ctx context.Context, m api.Module, s []uint64) {
			m.Memory().WriteUint64Le(uint32(s[1]), 1)
			s[0] = errnoSuccess
		}
	case "random_get":
		return func(ctx context.Context, m api.Module, s []uint64) {
			p, l := uint32(s[0]), uint32(s[1])
			if l > maxRandomBytes {
				s[0] = errnoInval
				return
			}
			buf := make([]byte, l)
			rand.Read(buf)
			if !m.Memory().Write(p, buf) {
				s[0] = errnoInval
				return
			}
			s[0] = errnoSuccess
		}
	case "environ_sizes_get":
		return func(ctx context.Context, m api.Module, s []uint64) {
			env := vmFrom(ctx).p.environ
			size := 0
			for _, e := range env {
				size += len(e) + 1
			}
			m.Memory().WriteUint32Le(uint32(s[0]), uint32(len(env)))
			m.Memory().WriteUint32Le(uint32(s[1]), uint32(size))
			s[0] = errnoSuccess
		}
	case "environ_get":
		return func(ctx context.Context, m api.Module, s []uint64) {
			env := vmFrom(ctx).p.environ
			ptrs, buf := uint32(s[0]), uint32(s[1])
			for i, e := range env {
				m.Memory().WriteUint32Le(ptrs+uint32(i)*4, buf)
				m.Memory().Write(buf, append([]byte(e), 0))
				buf += uint32(len(e)) + 1
			}
			s[0] = errnoSuccess
		}
	case "args_sizes_get":
		return func(ctx context.Context, m api.Module, s []uint64) {
			m.Memory().WriteUint32Le(uint32(s[0]), 0)
			m.Memory().WriteUint32Le(uint32(s[1]), 0)
			s[0] = errnoSuccess
		}
	case "args_get", "sched_yield", "fd_close", "fd_fdstat_set_flags", "fd_fdstat_set_rights", "fd_advise",
		"fd_allocate", "fd_datasync", "fd_sync":
		return func(ctx context.Context, m api.Module, s []uint64) {
			if len(s) > 0 {
				s[0] = errnoSuccess
			}
		}
	case "poll_oneoff":
		return func(ctx context.Context, m api.Module, s []uint64) {
			m.Memory().WriteUint32Le(uint32(s[3]), 0)
			s[0] = errnoSuccess
		}
	case "fd_fdstat_get":
		return func(ctx context.Context, m api.Module, s []uint64) {
			fd := uint32(s[0])
			if fd > 2 {
				s[0] = errnoBadf
				return
			}
			var st [24]byte
			st[0] = 2 // character device
			binary.LittleEndian.PutUint64(st[8:], ^uint64(0))
			m.Memory().Write(uint32(s[1]), st[:])
			s[0] = errnoSuccess
		}
	case "fd_prestat_get", "fd_prestat_dir_name", "fd_read", "fd_seek", "fd_tell", "fd_filestat_get", "fd_pread",
		"fd_pwrite", "fd_readdir", "fd_renumber", "fd_filestat_set_size", "fd_filestat_set_times":
		return func(ctx context.Context, m api.Module, s []uint64) { s[0] = errnoBadf }
	case "path_open", "path_filestat_get":
		return func(ctx context.Context, m api.Module, s []uint64) { s[0] = errnoNoent }
	case "proc_exit":
		return func(ctx context.Context, m api.Module, s []uint64) {
			vmFrom(ctx).log(4, "wasi proc_exit called with code "+itoa(uint32(s[0])))
		}
	}
	return func(ctx context.Context, m api.Module, s []uint64) {
		if len(s) > 0 {
			s[0] = errnoNosys
		}
	}
}
