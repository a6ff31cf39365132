//go:build wasip1

package proxywasm

// Memory the host asks for (proxy_on_memory_allocate: header pairs, buffers,
// foreign-function results) is served from an arena that is reset when the
// next outermost callback starts, so that a request allocates nothing for
// what the host hands it. What the host wrote is therefore valid only until
// the callback that asked for it returns: the binding's results that view
// host memory (GetHTTPRequestHeaders' strings, CallForeignFunction's bytes)
// must be cloned by whoever keeps them longer. GetPluginConfiguration clones
// for its caller, since a configuration is kept.
const (
	arenaMax   = 64 << 10 // a request larger than this gets its own allocation
	arenaAlign = 8
)

var (
	arena []byte // the current arena; arena[:used] is handed out
	used  int
	// inflight keeps the arenas outgrown during this callback and the
	// buffers too large for the arena reachable until the callback ends. A
	// host call writes the address of what it allocated into guest memory
	// only after proxy_on_memory_allocate has returned, so without it a
	// garbage collection in between could free a buffer the host is filling.
	inflight [][]byte
	depth    int // callbacks on the Go stack; the host can call in while a host call runs
)

//go:wasmexport proxy_on_memory_allocate
func proxyOnMemoryAllocate(size uint32) *byte {
	n := int(size)
	if n == 0 {
		// The host never asks for 0 bytes; answer with a valid, unique pointer anyway.
		n = 1
	}
	if n > arenaMax {
		buf := make([]byte, n)
		inflight = append(inflight, buf)
		return &buf[0]
	}
	if used+n > len(arena) {
		if arena != nil {
			inflight = append(inflight, arena)
		}
		arena = make([]byte, max(2*len(arena), 4<<10, n))
		used = 0
	}
	p := &arena[used]
	used += (n + arenaAlign - 1) &^ (arenaAlign - 1)
	return p
}

// enter is called at the start of every exported callback, and leave when
// it returns. The outermost callback reclaims what the previous one was
// handed: nothing of it is in use any more.
func enter() {
	depth++
	if depth == 1 && (used != 0 || len(inflight) != 0) {
		used = 0
		clear(inflight)
		inflight = inflight[:0]
	}
}

func leave() { depth-- }
