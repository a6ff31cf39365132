//go:build wasip1

package proxywasm

import "unsafe"

//go:wasmimport env proxy_set_property
func hostSetProperty(path unsafe.Pointer, pathSize uint32, value unsafe.Pointer, valueSize uint32) uint32

// SetProperty sets the property path (one segment, such as
// "tokengate.sub") of the stream in scope to value. Envoy keeps it in the
// request's filter state as "wasm.<path>", a mutable string object that lives
// as long as the filter chain, where the RBAC filter's filter_state matcher
// and the access log's %FILTER_STATE(wasm.<path>:PLAIN)% read it; the Go host
// keeps it on the stream (host.Stream.FilterState). Envoy answers NotFound
// outside a stream.
func SetProperty(path, value string) error {
	counted()
	return statusError(hostSetProperty(strPtr(path), uint32(len(path)), strPtr(value), uint32(len(value))))
}
