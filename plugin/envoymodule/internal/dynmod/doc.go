// Package dynmod is a minimal Go binding of Envoy's dynamic-modules ABI
// (envoy.filters.http.dynamic_modules) for one HTTP filter that acts on
// request headers, written for Envoy 1.40, whose ABI version is "v0.2.0".
//
// Envoy loads a dynamic module with dlopen, checks the version string that
// envoy_dynamic_module_on_program_init returns, and then resolves the event
// hooks (envoy_dynamic_module_on_*) by name: every hook the release requires
// must be exported, even the ones a filter never needs. This package exports
// all of them: configuration and request headers go to the Module registered
// with SetModule; the others are written in C (hooks.c), answer "continue"
// or do nothing, and so never enter the Go runtime. The callbacks
// (envoy_dynamic_module_callback_*) are Envoy's own exported functions; they
// are declared here by hand, only those used, as weak symbols so that tests
// of packages that import this one link without Envoy.
//
// Why its own binding rather than Envoy's Go SDK: the same reason as the
// Proxy-Wasm binding in plugin/internal/proxywasm. tokengate needs a handful
// of calls, wants to control every allocation on the request path, and must
// not pull a second configuration layer in front of the gate.
//
// Pointers: Envoy's filter pointer is only valid during the hook that
// received it. Request headers are read without copying: the strings point
// into Envoy's header map, valid until the hook returns or a header changes
// (the gate copies the token before caching it); HeaderReader.Borrowed tells
// such strings apart, so that none is handed back to Envoy. Strings given to
// Envoy are passed as pointers into Go memory that holds no Go pointers, or
// copied into C memory when Envoy reads them as an array (local responses).
//
// Scheduling: each hook that runs Go ends by pacing its worker thread
// (pace.go), so that Go's system monitor does not take the thread for stuck.
//
//	func init() { dynmod.SetModule(myModule{}) }
//
//	func (myModule) NewConfig(name string, config []byte) (dynmod.Config, error) { ... }
//
//	func (c *myConfig) RequestHeaders(f dynmod.Filter, worker int, end bool) dynmod.HeadersStatus {
//		headers := reader.Read(f, nil)
//		...
//		return dynmod.Continue
//	}
//
// The package builds only with cgo on Linux, where Envoy's dynamic modules run.
package dynmod
