// Package hostcrypto lets the filter ask the proxy to check a JWS signature
// through Envoy's "verify_signature" foreign function instead of doing the
// public-key arithmetic inside the Wasm module.
//
// It decides which signatures the host may check (Comparable), prepares keys
// (NewKey) and asks the host (Key.Verify). The wire format of the call is
// internal/verifysig's and the DER of keys and ECDSA signatures is
// internal/der's: the Go host (host/hostcrypto) reads the same bytes with
// the same code. It builds for GOOS=wasip1 and avoids fmt, encoding/json and
// protobuf libraries to keep the module small.
//
//	ok, supported, err := hostcrypto.Verify(callForeign, "RS256", pub, signingInput, sig)
//	if !supported || err != nil {
//		// verify in-module instead, or reject: never treat this as success
//	}
//
// NewKey encodes a key once for many checks (Key.Verify). Envoy 1.40
// verifies RS256/384/512 and ES256/384/512 this way; PS* and EdDSA are
// reported unsupported (build/bench/host-crypto.md has the measurements).
package hostcrypto
