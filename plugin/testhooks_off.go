//go:build wasip1 && !tokengate_testhooks

package main

import "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

// In a release build the module has no way to make itself fail on purpose,
// and nothing of the hooks is on the request path: a configuration is used
// as it is (one with test_hooks is refused as having an unknown field), and
// every stream is a plain stream. See testhooks_on.go.

type hooks struct{}

func testHooks(config []byte) ([]byte, hooks) { return config, hooks{} }

func newStream(p *plugin) types.HttpContext { return p.newStream() }
