package testhooks

import (
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Hooks are the failures one configuration asks for.
type Hooks struct {
	panicPath, trapPath, statsPath string
}

// Unwrap returns the plugin configuration inside config and the hooks it asks
// for. A configuration without test_hooks is returned as it is, with no
// hooks. With "panic_on_configure" it panics.
func Unwrap(config []byte) ([]byte, Hooks) {
	h := gjson.GetBytes(config, "test_hooks")
	if !h.Exists() {
		return config, Hooks{}
	}
	if h.Get("panic_on_configure").Bool() {
		panic("test hook: panic_on_configure")
	}
	return []byte(gjson.GetBytes(config, "config").Raw), Hooks{
		panicPath: h.Get("panic_on_request").String(),
		trapPath:  h.Get("trap_on_request").String(),
		statsPath: h.Get("stats_path").String(),
	}
}

// Enabled reports whether any request hook is set.
func (h Hooks) Enabled() bool { return h.panicPath != "" || h.trapPath != "" || h.statsPath != "" }

// IsStats reports whether the request is for the path that asks for the
// module's counters (stats_path).
func (h Hooks) IsStats(headers [][2]string) bool {
	if h.statsPath == "" {
		return false
	}
	for _, kv := range headers {
		if kv[0] == ":path" {
			return kv[1] == h.statsPath
		}
	}
	return false
}

// AppendStats appends the line the stats request logs: StatsPrefix, then
// the module's allocations and host calls so far.
func AppendStats(dst []byte, mallocs, hostCalls uint64) []byte {
	dst = append(dst, StatsPrefix...)
	dst = strconv.AppendUint(dst, mallocs, 10)
	dst = append(dst, " host_calls="...)
	return strconv.AppendUint(dst, hostCalls, 10)
}

// StatsPrefix starts the log line of a stats request; ParseStats reads it.
const StatsPrefix = "test hook: stats mallocs="

// ParseStats reads a line AppendStats wrote.
func ParseStats(line string) (mallocs, hostCalls uint64, ok bool) {
	rest, found := strings.CutPrefix(line, StatsPrefix)
	if !found {
		return 0, 0, false
	}
	m, c, found := strings.Cut(rest, " host_calls=")
	if !found {
		return 0, 0, false
	}
	mallocs, err1 := strconv.ParseUint(m, 10, 64)
	hostCalls, err2 := strconv.ParseUint(c, 10, 64)
	return mallocs, hostCalls, err1 == nil && err2 == nil
}

// OnRequest panics or aborts the runtime if the request's :path is one the
// hooks name.
func (h Hooks) OnRequest(headers [][2]string) {
	for _, kv := range headers {
		if kv[0] != ":path" {
			continue
		}
		switch path := kv[1]; {
		case h.panicPath != "" && path == h.panicPath:
			panic("test hook: panic_on_request")
		case h.trapPath != "" && path == h.trapPath:
			debug.SetMaxStack(64 << 10)
			recurse(0)
		}
	}
}

// recurse overflows the stack limit: "fatal error: stack overflow" cannot be
// recovered, so the runtime aborts and the VM traps.
func recurse(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	return recurse(n+1) + int(pad[0])
}
