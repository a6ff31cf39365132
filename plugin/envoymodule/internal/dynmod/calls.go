//go:build cgo && linux

package dynmod

/*
#include <stdlib.h>
#include <string.h>
#include "dynmod.h"

#cgo noescape envoy_dynamic_module_callback_http_get_headers_size
#cgo nocallback envoy_dynamic_module_callback_http_get_headers_size
#cgo noescape envoy_dynamic_module_callback_http_get_headers
#cgo nocallback envoy_dynamic_module_callback_http_get_headers
#cgo noescape envoy_dynamic_module_callback_http_set_header
#cgo nocallback envoy_dynamic_module_callback_http_set_header
#cgo noescape envoy_dynamic_module_callback_http_send_response
#cgo nocallback envoy_dynamic_module_callback_http_send_response
#cgo nocallback envoy_dynamic_module_callback_http_clear_route_cache
#cgo nocallback envoy_dynamic_module_callback_http_filter_get_worker_index
#cgo nocallback envoy_dynamic_module_callback_get_concurrency
#cgo nocallback envoy_dynamic_module_callback_log_enabled
#cgo noescape envoy_dynamic_module_callback_log
#cgo nocallback envoy_dynamic_module_callback_log
*/
import "C"

import (
	"errors"
	"runtime"
	"unsafe"
)

// Filter is Envoy's pointer to one stream's filter
// (envoy_dynamic_module_type_http_filter_envoy_ptr), valid only during the
// hook that received it.
type Filter uintptr

const requestHeader = 0 // envoy_dynamic_module_type_http_header_type_RequestHeader

// HeaderReader reads request headers. It keeps its scratch array between
// calls; use one per thread.
type HeaderReader struct {
	raw []C.tg_header // what Envoy returned by the last Read
}

// Read appends every request header of f to dst[:0] and returns it,
// without copying: names and values point into Envoy's header map, so they
// are valid only until the hook returns or a header changes, and must
// never be handed back to Envoy (Borrowed tells them apart). Whatever is
// kept longer must be copied; the gate copies what it caches.
func (r *HeaderReader) Read(f Filter, dst [][2]string) ([][2]string, error) {
	dst = dst[:0]
	r.raw = r.raw[:0]
	n := int(C.envoy_dynamic_module_callback_http_get_headers_size(C.uintptr_t(f), requestHeader))
	if n == 0 {
		return dst, nil
	}
	if cap(r.raw) < n {
		r.raw = make([]C.tg_header, n)
	}
	raw := r.raw[:n]
	ok := C.envoy_dynamic_module_callback_http_get_headers(C.uintptr_t(f), requestHeader, C.uintptr_t(uintptr(unsafe.Pointer(&raw[0]))))
	runtime.KeepAlive(raw)
	if !ok {
		return dst, errors.New("envoy did not return the request headers (envoy_dynamic_module_callback_http_get_headers failed)")
	}
	r.raw = raw
	for i := range raw {
		dst = append(dst, [2]string{envoyString(raw[i].key_ptr, raw[i].key_length), envoyString(raw[i].value_ptr, raw[i].value_length)})
	}
	return dst, nil
}

// envoyString is the string at p, n bytes of Envoy's memory.
func envoyString(p *C.char, n C.size_t) string {
	if n == 0 {
		return ""
	}
	return unsafe.String((*byte)(unsafe.Pointer(p)), int(n))
}

// Borrowed reports whether s lies in Envoy's memory as returned by the last
// Read: such a string must be copied before Envoy is asked to change a
// header, because the change can free it.
func (r *HeaderReader) Borrowed(s string) bool {
	if len(s) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	for i := range r.raw {
		h := &r.raw[i]
		if within(p, uintptr(unsafe.Pointer(h.key_ptr)), int(h.key_length)) ||
			within(p, uintptr(unsafe.Pointer(h.value_ptr)), int(h.value_length)) {
			return true
		}
	}
	return false
}

// within reports whether p is in the n bytes at base.
func within(p, base uintptr, n int) bool { return n > 0 && p >= base && p < base+uintptr(n) }

// buffer points Envoy at the bytes of s, which must stay alive (and, being
// a string, unchanged) during the call.
func buffer(s string) C.tg_buffer {
	return C.tg_buffer{ptr: C.uintptr_t(uintptr(unsafe.Pointer(unsafe.StringData(s)))), length: C.size_t(len(s))}
}

// SetRequestHeader replaces every value of the request header name with
// value. It reports whether Envoy changed the header map.
func SetRequestHeader(f Filter, name, value string) bool {
	v := buffer(value)
	if v.ptr == 0 {
		// A null pointer means "remove"; an empty value is a real value.
		v.ptr = C.uintptr_t(uintptr(unsafe.Pointer(&emptyValue[0])))
	}
	k := buffer(name)
	ok := C.envoy_dynamic_module_callback_http_set_header(C.uintptr_t(f), requestHeader, k, v)
	runtime.KeepAlive(name)
	runtime.KeepAlive(value)
	return bool(ok)
}

var emptyValue = [1]byte{}

// RemoveRequestHeader removes every value of the request header name. It
// reports whether Envoy accepted the call (removing an absent header is not
// an error).
func RemoveRequestHeader(f Filter, name string) bool {
	ok := C.envoy_dynamic_module_callback_http_set_header(C.uintptr_t(f), requestHeader, buffer(name), C.tg_buffer{})
	runtime.KeepAlive(name)
	return bool(ok)
}

// ClearRouteCache makes Envoy match the route again after request headers
// changed, as it does for a Proxy-Wasm filter that changes them.
func ClearRouteCache(f Filter) {
	C.envoy_dynamic_module_callback_http_clear_route_cache(C.uintptr_t(f))
}

// SendResponse answers the request locally with status, headers and body;
// the request does not go upstream. The hook must then return StopIteration.
func SendResponse(f Filter, status int, headers [][2]string, body []byte) {
	// Envoy reads the headers as an array of pointers: that array must not
	// hold Go pointers, so names, values and body are copied to C memory.
	size := len(body)
	for _, h := range headers {
		size += len(h[0]) + len(h[1])
	}
	mem := C.malloc(C.size_t(size + 1))
	defer C.free(mem)
	scratch := unsafe.Slice((*byte)(mem), size+1)
	at := 0
	put := func(b []byte) C.uintptr_t {
		p := C.uintptr_t(uintptr(unsafe.Pointer(&scratch[at])))
		at += copy(scratch[at:], b)
		return p
	}
	hs := make([]C.tg_module_header, len(headers)+1) // +1: &hs[0] exists without headers
	for i, h := range headers {
		hs[i].key_ptr, hs[i].key_length = put([]byte(h[0])), C.size_t(len(h[0]))
		hs[i].value_ptr, hs[i].value_length = put([]byte(h[1])), C.size_t(len(h[1]))
	}
	b := C.tg_buffer{ptr: put(body), length: C.size_t(len(body))}
	C.envoy_dynamic_module_callback_http_send_response(C.uintptr_t(f), C.uint32_t(status),
		C.uintptr_t(uintptr(unsafe.Pointer(&hs[0]))), C.size_t(len(headers)), b, C.tg_buffer{})
	runtime.KeepAlive(hs)
}

// workerIndex is the index of the Envoy worker thread running f's stream,
// in [0, Concurrency()) for Envoy's workers.
func workerIndex(f Filter) int {
	return int(C.envoy_dynamic_module_callback_http_filter_get_worker_index(C.uintptr_t(f)))
}

// Concurrency is the number of Envoy worker threads (--concurrency).
func Concurrency() int {
	return int(C.envoy_dynamic_module_callback_get_concurrency())
}

// Level is envoy_dynamic_module_type_log_level.
type Level int

const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
	LevelCritical
)

// LogEnabled reports whether Envoy's dynamic_modules logger writes level.
func LogEnabled(l Level) bool { return bool(C.envoy_dynamic_module_callback_log_enabled(C.int(l))) }

// Log writes msg to Envoy's log under the dynamic_modules logger.
func Log(l Level, msg string) {
	C.envoy_dynamic_module_callback_log(C.int(l), buffer(msg))
	runtime.KeepAlive(msg)
}
