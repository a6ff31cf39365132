package testhooks

import (
	"runtime/debug"

	"github.com/tidwall/gjson"
)

// Hooks are the failures one configuration asks for.
type Hooks struct {
	panicPath, trapPath string
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
	}
}

// Enabled reports whether any request hook is set.
func (h Hooks) Enabled() bool { return h.panicPath != "" || h.trapPath != "" }

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
