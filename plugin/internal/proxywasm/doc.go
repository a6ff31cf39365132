// Package proxywasm is tokengate's guest-side binding of the Proxy-Wasm ABI
// v0.2.1 for the standard Go toolchain (GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared).
//
// The published Go SDKs either target TinyGo (their exports use //export) or
// are not available as modules, so this package is deliberately small: it
// exports the callbacks through //go:wasmexport, imports the host functions
// through //go:wasmimport, and dispatches callbacks to the context interfaces
// of the SDK's compiler-neutral types package. It knows nothing about tokens,
// and it has only what the plugin uses: the callbacks an authentication
// filter needs and the host calls the plugin makes; add a callback or a host
// call when a caller needs it.
//
// Three rules shape it, all taken from how Envoy runs a Go module:
//
//   - Nothing happens in init() except registration: package initialisers run
//     inside _initialize, where Envoy allows almost no host calls.
//   - Nothing blocks: Envoy's poll_oneoff returns at once, so a sleeping or
//     waiting goroutine spins the worker thread. Work that must wait uses
//     HTTP call callbacks.
//   - Every export boundary recovers a Go panic. A panic in a stream callback
//     becomes a fail-closed local 500 and an error log line, never a trap and
//     never a pass.
//
// A fourth rule keeps a request free of allocations, which in a stock-Go
// module cost far more than natively and leave garbage the GC collects
// inside callbacks: memory the host asks for during a callback comes from an
// arena reclaimed when the next one starts (memory.go), so what a host call
// returns in it (the request headers, a foreign function's result) is valid
// only until the callback returns. The request headers are strings that alias
// it, in a slice reused by the next request: clone what is kept longer.
//
// A plugin registers its VM context from main's package init:
//
//	func init() { proxywasm.SetVMContext(&vm{}) }
//
// and calls the host through the functions in hostcalls.go, for example
// GetHTTPRequestHeaders and SendHTTPResponse, or through Host, the binding as
// a value for packages that take their host calls as an interface.
package proxywasm
