//go:build wasip1 && tokengate_testhooks

package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/plugin/internal/testhooks"
)

// A module built with -tags tokengate_testhooks (only ever by tests) accepts
// a configuration wrapped as {"test_hooks": {...}, "config": {...}} and can
// be told to fail on purpose; see plugin/internal/testhooks.

type hooks = testhooks.Hooks

func testHooks(config []byte) ([]byte, hooks) { return testhooks.Unwrap(config) }

// newStream gives a configuration with request hooks a stream that runs
// them before the request path.
func newStream(p *plugin) types.HttpContext {
	if !p.hooks.Enabled() {
		return &stream{plugin: p}
	}
	return &hookedStream{stream{plugin: p}}
}

type hookedStream struct{ stream }

func (s *hookedStream) OnHttpRequestHeaders(int, bool) types.Action {
	headers := requestHeaders()
	s.plugin.hooks.OnRequest(headers)
	return s.decide(headers)
}
