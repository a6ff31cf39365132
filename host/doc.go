// Package host runs Proxy-Wasm ABI v0.2.1 modules on wazero the way Envoy
// (1.39 and later) runs them, so a Go program can put a Proxy-Wasm HTTP
// filter in front of its handlers, and tests can run a plugin exactly as a
// proxy would.
//
// What it provides, and why each part is shaped like Envoy's:
//
//   - Every host function Envoy links for an ABI v0.2.1 module, with the
//     exact signatures (internal/envoyabi's list), including its own
//     wasi_snapshot_preview1: stdout/stderr to the log, injectable clocks,
//     a poll_oneoff that never sleeps, no file system. Calls outside the
//     allowlists during _initialize and proxy_on_memory_allocate trap, as
//     V8's restricted callbacks do.
//   - VMs that each serve one stream at a time from a pool (a stream holds
//     its VM only while the module can still act on it: Middleware ends the
//     stream of a module without response callbacks or proxy_on_log once
//     the request has passed, before the upstream is asked), a root context
//     per configuration, a canary VM that must accept a new configuration
//     before it replaces the old one, and a trap that discards the VM and
//     answers the request 500 (or lets it through with WithFailOpen).
//   - Envoy's asynchronous machinery: ticks, shared queues with
//     proxy_on_queue_ready, shared data with CAS (per vm_id, between the
//     plugins given one Shared with WithSharedState; each Load has its own
//     otherwise), HTTP calls to named upstreams, DNS lookups; their callbacks
//     run on the VM between streams, or while a stream waits for them.
//
// Use it as net/http middleware:
//
//	p, err := host.Load(ctx, wasm, host.WithUpstream("idp", "https://idp.example.com"))
//	if err != nil { ... }
//	defer p.Close(ctx)
//	if err := p.Configure(ctx, configJSON); err != nil { ... } // the plugin refused it
//	http.ListenAndServe(addr, p.Middleware(upstream))
//
// or drive streams directly (the testhost package does):
//
//	s, err := p.NewStream(ctx)
//	res, err := s.RequestHeaders([][2]string{{":method", "GET"}, {":path", "/"}}, true)
//	s.Close()
package host
