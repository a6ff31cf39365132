//go:build wasip1

// Command sleeper is a test guest that sleeps for a millisecond in every
// request: the Go runtime then waits in poll_oneoff, which Envoy 1.33–1.38
// answer with ENOSYS (host.WithLegacyWASI) and Envoy 1.39 answers at once.
package main

import "time"

func main() {}

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
	time.Sleep(time.Millisecond)
	return 0 // continue
}
