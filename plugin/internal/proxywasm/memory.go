//go:build wasip1

package proxywasm

// inflight keeps the buffers handed to the host reachable until the host
// call that asked for them has returned and the guest holds them in a typed
// variable. Without it, a garbage collection triggered by a second
// allocation inside the same host call could free the first buffer while the
// host still writes its address into guest memory. It is reset at every
// export entry, so it holds at most one callback's allocations.
var inflight [][]byte

//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) *byte {
	if size == 0 {
		// The host never asks for 0 bytes; answer with a valid, unique pointer anyway.
		size = 1
	}
	buf := make([]byte, size)
	inflight = append(inflight, buf)
	return &buf[0]
}

// enter is called at the start of every exported callback.
func enter() {
	clear(inflight)
	inflight = inflight[:0]
}
