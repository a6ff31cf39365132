// Package floorwasm writes the floor module: a hand-assembled WebAssembly
// module, no Go and no runtime, with tokengate's exact exports and the host
// calls tokengate makes for an accepted request with a cached token. Envoy
// running it costs what tokengate's call pattern costs and nothing more, so
// `make bench` (build/cmd/benchrun) measures tokengate against it: what
// tokengate adds over the floor is its Go runtime and its own code, which is
// what the module can still shrink.
//
// Per request the floor does what tokengate's request path does (stream.go):
// proxy_on_request_headers reads every request header
// (proxy_get_header_map_pairs, which calls back into
// proxy_on_memory_allocate), reads the clock, removes authorization and sets
// x-user; it counts the request in the module and adds the counts to three
// counters every 64 requests and on a one-second tick, as
// plugin/internal/metrics does. It decides nothing: every request passes.
//
// The module is written byte by byte (no WAT assembler is a Go module this
// repository would take, and no external tool is needed):
//
//	os.WriteFile("floor.wasm", floorwasm.Module(), 0o644)
package floorwasm
