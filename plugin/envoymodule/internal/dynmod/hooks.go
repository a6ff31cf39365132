//go:build cgo && linux

package dynmod

/*
#include "dynmod.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"unsafe"
)

// ABIVersion is the dynamic-modules ABI version of Envoy 1.40
// (ENVOY_DYNAMIC_MODULES_ABI_VERSION in its abi.h). Envoy compares it with
// its own at load time: "Dynamic module ABI version v0.2.0 matched."
const ABIVersion = "v0.2.0"

// abiVersion lives in C memory for the life of the process: Envoy reads it
// after envoy_dynamic_module_on_program_init returns.
var abiVersion = C.CString(ABIVersion)

// Module creates filter configurations. It is called on Envoy's main thread.
type Module interface {
	// NewConfig compiles the filter configuration (filter_config in the
	// DynamicModuleFilter, without its StringValue/BytesValue wrapper). An
	// error refuses the configuration: Envoy rejects the listener or the
	// ECDS update and keeps the previous one.
	NewConfig(filterName string, config []byte) (Config, error)
}

// Config is one compiled filter configuration. Envoy shares it between its
// worker threads: RequestHeaders is called concurrently from several.
type Config interface {
	// RequestHeaders decides on a request. f is valid until it returns.
	// worker is the index Envoy gives the thread calling: in
	// [0, Concurrency()) for its worker threads, and outside it for any
	// other thread.
	RequestHeaders(f Filter, worker int, endOfStream bool) HeadersStatus
	// Destroy is called once, after the last stream using the configuration.
	Destroy()
}

// HeadersStatus is envoy_dynamic_module_type_on_http_filter_request_headers_status.
type HeadersStatus int32

const (
	Continue      HeadersStatus = 0 // _Continue: pass the request on
	StopIteration HeadersStatus = 1 // _StopIteration: a local response was sent
)

var (
	mu     sync.Mutex
	module Module
)

// SetModule registers the module. Call it from an init function.
func SetModule(m Module) {
	mu.Lock()
	module = m
	mu.Unlock()
}

//export envoy_dynamic_module_on_program_init
func envoy_dynamic_module_on_program_init() C.uintptr_t {
	return C.uintptr_t(uintptr(unsafe.Pointer(abiVersion)))
}

//export envoy_dynamic_module_on_http_filter_config_new
func envoy_dynamic_module_on_http_filter_config_new(_ C.uintptr_t, name, config C.tg_envoy_buffer) C.uintptr_t {
	mu.Lock()
	m := module
	mu.Unlock()
	n := C.GoStringN(name.ptr, C.int(name.length))
	if m == nil {
		Log(LevelError, "dynamic module loaded without a filter: the library registers none")
		return 0
	}
	cfg, err := m.NewConfig(n, C.GoBytes(unsafe.Pointer(config.ptr), C.int(config.length)))
	if err != nil {
		Log(LevelError, err.Error())
		return 0
	}
	return C.uintptr_t(cgo.NewHandle(cfg))
}

//export envoy_dynamic_module_on_http_filter_config_destroy
func envoy_dynamic_module_on_http_filter_config_destroy(config C.uintptr_t) {
	h := cgo.Handle(config)
	h.Value().(Config).Destroy()
	h.Delete()
}

//export envoy_dynamic_module_on_http_filter_request_headers
func envoy_dynamic_module_on_http_filter_request_headers(filter, stream C.uintptr_t, endOfStream C.bool) C.int {
	cfg := cgo.Handle(stream).Value().(Config)
	w := workerIndex(Filter(filter))
	status := cfg.RequestHeaders(Filter(filter), w, bool(endOfStream))
	pace(w)
	return C.int(status)
}

// Per-route configuration is not supported: returning null makes Envoy
// refuse a route that sets one.

//export envoy_dynamic_module_on_http_filter_per_route_config_new
func envoy_dynamic_module_on_http_filter_per_route_config_new(C.tg_envoy_buffer, C.tg_envoy_buffer) C.uintptr_t {
	Log(LevelError, "tokengate has no per-route configuration; configure rules in the filter configuration instead")
	return 0
}
