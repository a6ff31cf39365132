//go:build wasip1

// Command noop is the smallest Go Proxy-Wasm HTTP filter: it reads the
// request headers and lets the request through. benchrun measures it next to
// tokengate, to separate what any Go module costs Envoy per request
// (entering the Go runtime, copying headers) from what tokengate's own
// decision costs.
//
// With the plugin configuration "mutate" it also does the host work
// tokengate does for an accepted request, without deciding anything: decode
// the header pairs into Go strings, read the clock, remove the
// Authorization header, set one claim header and count the request.
package main

import (
	"time"
	"unsafe"

	"github.com/tokengate/tokengate/internal/abi"
)

func main() {}

//go:wasmimport env proxy_get_header_map_pairs
func getHeaderMapPairs(mapType uint32, data unsafe.Pointer, size *uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func getBufferBytes(buffer, start, maxSize uint32, data unsafe.Pointer, size *uint32) uint32

//go:wasmimport env proxy_remove_header_map_value
func removeHeader(mapType uint32, key unsafe.Pointer, keySize uint32) uint32

//go:wasmimport env proxy_replace_header_map_value
func replaceHeader(mapType uint32, key unsafe.Pointer, keySize uint32, value unsafe.Pointer, valueSize uint32) uint32

//go:wasmimport env proxy_define_metric
func defineMetric(metricType uint32, name unsafe.Pointer, nameSize uint32, id *uint32) uint32

//go:wasmimport env proxy_increment_metric
func incrementMetric(id uint32, delta int64) uint32

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

// keep holds buffers handed to the host until the next request.
var keep [][]byte

//go:wasmexport proxy_on_memory_allocate
func allocate(n uint32) *byte {
	if n == 0 {
		n = 1
	}
	b := make([]byte, n)
	keep = append(keep, b)
	return &b[0]
}

//go:wasmexport proxy_on_context_create
func contextCreate(contextID, parentID uint32) {}

//go:wasmexport proxy_on_vm_start
func vmStart(rootID, size uint32) bool { return true }

var (
	mutate  bool
	counter uint32
)

//go:wasmexport proxy_on_configure
func configure(rootID, size uint32) bool {
	var p *byte
	var n uint32
	if size > 0 && getBufferBytes(abi.BufferPluginConfiguration, 0, size, unsafe.Pointer(&p), &n) == 0 {
		mutate = string(unsafe.Slice(p, n)) == "mutate"
	}
	if mutate {
		name := "noop.requests"
		defineMetric(abi.MetricCounter, unsafe.Pointer(unsafe.StringData(name)), uint32(len(name)), &counter)
	}
	return true
}

// sink keeps the work observable, so none of it is optimised away.
var sink int

//go:wasmexport proxy_on_request_headers
func requestHeaders(contextID, headers uint32, endOfStream bool) uint32 {
	keep = keep[:0]
	var p *byte
	var n uint32
	if getHeaderMapPairs(abi.MapHTTPRequestHeaders, unsafe.Pointer(&p), &n) != 0 {
		return 0
	}
	sink += int(n)
	if !mutate {
		return 0 // continue
	}
	pairs, err := abi.DecodePairs(unsafe.Slice(p, n))
	if err == nil {
		sink += len(pairs)
	}
	sink += int(time.Now().Unix() & 1)
	auth, user, value := "authorization", "x-user", "alice"
	removeHeader(abi.MapHTTPRequestHeaders, unsafe.Pointer(unsafe.StringData(auth)), uint32(len(auth)))
	replaceHeader(abi.MapHTTPRequestHeaders, unsafe.Pointer(unsafe.StringData(user)), uint32(len(user)),
		unsafe.Pointer(unsafe.StringData(value)), uint32(len(value)))
	incrementMetric(counter, 1)
	return 0
}

//go:wasmexport proxy_on_done
func done(contextID uint32) bool { return true }

//go:wasmexport proxy_on_delete
func deleteContext(contextID uint32) {}
