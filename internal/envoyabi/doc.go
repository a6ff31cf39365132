// Package envoyabi owns the lists of host functions Envoy links into a
// Proxy-Wasm ABI v0.2.1 module: module, name and signature of each, read
// from proxy-wasm-cpp-host. host-imports.tsv is Envoy 1.39 and later;
// host-imports-1.33.tsv is Envoy 1.33 to 1.38, the oldest releases
// tokengate supports, which lack most WASI functions.
//
// Three parts of the project must agree on these lists, and all three read
// these bytes: the wazero host (host) links exactly Newest() and, with
// host.WithLegacyWASI, only the WASI functions of Oldest(); abicheck
// (build/cmd/abicheck) holds tokengate.wasm to both; and their tests. The
// files are embedded, so no caller depends on its working directory, and
// Parse is strict (exact header, four columns, wasm value types, no
// duplicates), so a mistyped line fails every test at once instead of
// making one side quietly disagree with the other.
//
//	for _, l := range envoyabi.Lists() { // oldest first
//		for _, f := range l.Funcs {
//			fmt.Println(l.Name, f.Module, f.Name, f.Params, f.Results)
//		}
//	}
package envoyabi
