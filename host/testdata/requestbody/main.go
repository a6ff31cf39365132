//go:build wasip1

// Command requestbody is a test guest that filters requests, their bodies
// included, and nothing of the response: it exports proxy_on_request_body
// but no response callback and no proxy_on_log, so the host may end its
// streams (and free its VM) once the request body has ended.
package main

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
func onRequestHeaders(id, n, eos uint32) uint32 { return 0 } // continue

//go:wasmexport proxy_on_request_body
func onRequestBody(id, size, eos uint32) uint32 { return 0 } // continue

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {}
