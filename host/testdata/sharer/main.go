//go:build wasip1

// Command sharer is a test guest that counts its requests in shared data
// and looks for a shared queue, so tests can tell whether two plugins share
// a host's per-process state. Each request logs "hits=N", N being the key
// "hits" after it incremented it (with CAS), and "queue=found" when its
// vm_id already has a queue "q" or else "queue=registered" once it
// registered one.
package main

import (
	"strconv"
	"unsafe"
)

func main() {}

type ptr = unsafe.Pointer

//go:wasmimport env proxy_log
func proxyLog(level uint32, msg ptr, n uint32) uint32

//go:wasmimport env proxy_get_property
func getProperty(path ptr, pn uint32, val ptr, vn *uint32) uint32

//go:wasmimport env proxy_get_shared_data
func getSharedData(k ptr, kn uint32, v ptr, vn *uint32, cas *uint32) uint32

//go:wasmimport env proxy_set_shared_data
func setSharedData(k ptr, kn uint32, v ptr, vn uint32, cas uint32) uint32

//go:wasmimport env proxy_register_shared_queue
func registerSharedQueue(n ptr, nn uint32, tok *uint32) uint32

//go:wasmimport env proxy_resolve_shared_queue
func resolveSharedQueue(vm ptr, vmn uint32, n ptr, nn uint32, tok *uint32) uint32

const (
	ok          = 0
	notFound    = 1
	casMismatch = 8
)

func strPtr(s string) ptr { return ptr(unsafe.StringData(s)) }

func logInfo(s string) { proxyLog(2, strPtr(s), uint32(len(s))) }

// out receives a host-allocated buffer.
type out struct{ addr, size uint32 }

func (o *out) bytes() []byte {
	if o.size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(o.addr))), o.size)
}

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

var keep = map[*byte][]byte{}

//go:wasmexport proxy_on_memory_allocate
func alloc(n uint32) *byte {
	b := make([]byte, max(n, 1))
	keep[&b[0]] = b
	return &b[0]
}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_vm_start
func onVMStart(id, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	logInfo("hits=" + strconv.Itoa(increment("hits")))
	var vmID out
	getProperty(strPtr("plugin_vm_id"), uint32(len("plugin_vm_id")), ptr(&vmID.addr), &vmID.size)
	vm := string(vmID.bytes())
	var tok uint32
	if resolveSharedQueue(strPtr(vm), uint32(len(vm)), strPtr("q"), 1, &tok) == ok {
		logInfo("queue=found")
	} else {
		registerSharedQueue(strPtr("q"), 1, &tok)
		logInfo("queue=registered")
	}
	return 0 // continue
}

// increment adds one to the decimal number under key, retrying on a CAS
// mismatch, and returns the new value.
func increment(key string) int {
	for {
		var o out
		var cas uint32
		n := 0
		switch getSharedData(strPtr(key), uint32(len(key)), ptr(&o.addr), &o.size, &cas) {
		case ok:
			n, _ = strconv.Atoi(string(o.bytes()))
		case notFound:
			cas = 0
		}
		v := strconv.Itoa(n + 1)
		if setSharedData(strPtr(key), uint32(len(key)), strPtr(v), uint32(len(v)), cas) != casMismatch {
			return n + 1
		}
	}
}
