//go:build cgo && linux

// Command envoymodule is tokengate as an Envoy dynamic module: the same
// verifier (plugin/internal/gate) and the same JSON configuration as the
// Proxy-Wasm filter, compiled to native code and loaded by Envoy 1.40's
// envoy.filters.http.dynamic_modules filter:
//
//	go build -buildmode=c-shared -o build/out/libtokengate.so ./plugin/envoymodule
//
// Envoy finds it as libtokengate.so in ENVOY_DYNAMIC_MODULES_SEARCH_PATH
// (module name "tokengate"); the filter name is "tokengate" and the filter
// configuration is the plugin configuration as a google.protobuf.StringValue
// (docs/native.md).
//
// Like plugin/main.go this package only wires entry points: the ABI binding
// is in internal/dynmod, every decision is made by the gate. filter.go is the
// request path and answers exactly as plugin/stream.go does: the same local
// responses, the same header removals and settings, the same ":path".
//
// A gate.Gate serves one request at a time (it has a cache), and Envoy calls
// the filter from all its worker threads at once, so a configuration holds
// one Gate per worker, compiled from the same JSON, and each worker uses its
// own without locking. Signatures are checked by Go's crypto in-process.
package main
