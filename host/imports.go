package host

import "github.com/tokengate/tokengate/internal/envoyabi"

// imports lists every function Envoy 1.39 and later link into a Proxy-Wasm
// module, with the exact signature, so any module built for Envoy links here
// too. It is internal/envoyabi's list, the one abicheck holds tokengate.wasm
// to, not a copy of it.
var imports = envoyabi.Newest().Funcs

// legacyImports are the functions Envoy 1.33 to 1.38 link ("module.name"),
// all that WithLegacyWASI provides: every one a stock-Go module needs except
// the file-system ones.
var legacyImports = envoyabi.Oldest().Names()
