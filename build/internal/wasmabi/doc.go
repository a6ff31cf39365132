// Package wasmabi reads the import and export sections of a WebAssembly
// module and checks them against the functions a host provides.
//
// Envoy refuses to load a module with an import it does not register, or one
// whose signature differs ("missing import", "import type mismatch"), and a
// stock-Go module can pick up such an import silently (os.Link pulls in
// path_link, whose signature Envoy declares differently). This package turns
// that load-time failure into a build-time one:
//
//	m, err := wasmabi.Parse(wasmBytes)
//	host := wasmabi.NewHost(envoyabi.Newest().Funcs) // internal/envoyabi
//	for _, p := range wasmabi.Check(m, host) { ... }
package wasmabi
