// Package abi holds the Proxy-Wasm ABI v0.2.1 vocabulary that both sides of the
// boundary share and the SDK's types package lacks: status codes, map,
// buffer, stream and metric types, log levels, and the little-endian encoding
// of header maps ("pairs"). Filter actions are the SDK's types.Action, so
// that every side says types.ActionContinue, never a second name.
//
// The plugin's guest binding (plugin/internal/proxywasm), the wazero host
// (host) and the test harness (testhost) all speak in these terms, so they are
// defined exactly once, here. Values follow the v0.2.1 specification and the
// enums of proxy-wasm-cpp-host, which Envoy uses.
//
//	buf := abi.EncodePairs([][2]string{{":path", "/v1/score"}})
//	pairs, err := abi.DecodePairs(buf) // [[":path" "/v1/score"]]
package abi
