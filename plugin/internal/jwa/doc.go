// Package jwa verifies JWS signatures of the asymmetric algorithms of
// RFC 7518 §3.3–3.5 (RS256/384/512, PS256/384/512, ES256/384/512) and
// RFC 8037 (EdDSA with Ed25519), with the standard library's crypto only.
//
// It exists so that the Wasm module does not link crypto/x509: golang-jwt's
// signing methods import it for their PEM helpers, crypto/x509 imports net,
// and net's package initialisation keeps os.OpenFile and os.Stat in the
// module, which then imports wasi_snapshot_preview1.path_open and
// path_filestat_get. Envoy 1.33–1.38 do not provide path_filestat_get and
// refuse to load such a module (RATIONALE.md, "Why our own JWS signature
// methods?").
//
// The verifiers accept exactly what golang-jwt's do, with two deliberate
// differences: PS* signatures must use a salt as long as the hash (RFC 7518
// §3.5), and an ECDSA key must be on the curve the algorithm names. Tests
// prove the agreement on valid, forged and malformed signatures.
//
//	m := jwa.Lookup("ES256")
//	if m == nil || m.Verify(signingInput, signature, publicKey) != nil {
//		// refuse the token
//	}
package jwa
