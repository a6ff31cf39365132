//go:build wasip1 && tokengate_testhooks

package main

import (
	"runtime/debug"

	"github.com/tidwall/gjson"
)

// A module built with -tags tokengate_testhooks (only ever by tests) accepts
// a configuration wrapped as {"test_hooks": {...}, "config": {...}} and can
// be told to fail on purpose, so that tests prove what the hosts do when the
// plugin breaks:
//
//	"panic_on_configure": true    panic inside proxy_on_configure
//	"panic_on_request": "/path"   panic while handling a request for /path
//	"trap_on_request": "/path"    abort the Go runtime (an unrecoverable
//	                              fatal error, like running out of memory),
//	                              which traps the VM
func testHooks(config []byte) ([]byte, hooks) {
	h := gjson.GetBytes(config, "test_hooks")
	if !h.Exists() {
		return config, hooks{}
	}
	if h.Get("panic_on_configure").Bool() {
		panic("test hook: panic_on_configure")
	}
	return []byte(gjson.GetBytes(config, "config").Raw), hooks{
		panicPath: h.Get("panic_on_request").String(),
		trapPath:  h.Get("trap_on_request").String(),
	}
}

type hooks struct {
	panicPath, trapPath string
}

func (h hooks) enabled() bool { return h.panicPath != "" || h.trapPath != "" }

func (h hooks) onRequest(path string) {
	switch {
	case h.panicPath != "" && path == h.panicPath:
		panic("test hook: panic_on_request")
	case h.trapPath != "" && path == h.trapPath:
		debug.SetMaxStack(64 << 10)
		recurse(0)
	}
}

// recurse overflows the stack limit: "fatal error: stack overflow" cannot be
// recovered, so the runtime aborts and the VM traps.
func recurse(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	return recurse(n+1) + int(pad[0])
}
