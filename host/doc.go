// Package host runs a Proxy-Wasm ABI v0.2.1 HTTP filter on wazero, the way
// Envoy does: its own wasi_snapshot_preview1, the env host functions, a pool of
// VMs that each serve one stream at a time, and fail-closed handling of traps.
//
//	p, err := host.Load(ctx, wasm, host.WithPoolSize(4))
//	if err != nil { ... }
//	if err := p.Configure(ctx, configJSON); err != nil { ... } // plugin refused it
//	handler := p.Middleware(upstream)
package host
