//go:build wasip1

// Command statter is a test guest that calls os.Stat in every request, so
// it imports wasi_snapshot_preview1.path_filestat_get, which Envoy
// 1.33–1.38 (host.WithLegacyWASI) do not provide: they refuse to load it.
package main

import "os"

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
	_, _ = os.Stat("/")
	return 0 // continue
}
