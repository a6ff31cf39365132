//go:build wasip1 && tokengate_testhooks

package main

import (
	"runtime"
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
	"github.com/tokengate/tokengate/plugin/internal/testhooks"
)

// A module built with -tags tokengate_testhooks (only ever by tests) accepts
// a configuration wrapped as {"test_hooks": {...}, "config": {...}} and can
// be told to fail on purpose, or to report its allocations and host calls;
// see plugin/internal/testhooks.

type hooks = testhooks.Hooks

func testHooks(config []byte) ([]byte, hooks) { return testhooks.Unwrap(config) }

// newStream gives a configuration with request hooks a stream that runs
// them before the request path. A hookedStream is one pointer, so it is
// stored in the context map without an allocation, and its stream is reused
// like any other: a hooked request allocates what a plain one does.
func newStream(p *plugin) types.HttpContext {
	if !p.hooks.Enabled() {
		return p.newStream()
	}
	return hookedStream{p.newStream()}
}

type hookedStream struct{ *stream }

func (s hookedStream) OnHttpRequestHeaders(int, bool) types.Action {
	headers := requestHeaders()
	if s.plugin.hooks.IsStats(headers) {
		reportStats()
		return types.ActionContinue
	}
	s.plugin.hooks.OnRequest(headers)
	return s.decide(headers)
}

var (
	memStats  runtime.MemStats
	statsLine [128]byte
)

// reportStats logs the module's allocations and host calls so far. It reads
// both before it allocates or calls anything; the log call counts towards
// the next report.
func reportStats() {
	runtime.ReadMemStats(&memStats)
	line := testhooks.AppendStats(statsLine[:0], memStats.Mallocs, proxywasm.HostCalls())
	proxywasm.LogInfo(unsafe.String(unsafe.SliceData(line), len(line)))
}
