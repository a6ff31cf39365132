// Package wycheproof reads the Project Wycheproof signature test vectors
// (github.com/C2SP/wycheproof, testvectors_v1) that prove tokengate's
// verifiers on known attacks: malleable and out-of-range ECDSA values,
// forged PKCS#1 v1.5 paddings, PSS encodings, non-canonical Ed25519
// signatures. It is imported by tests only.
//
// The files under testdata are the ones whose parameters are exactly a JWS
// algorithm (RFC 7518, RFC 8037): RSASSA-PKCS1-v1_5 with SHA-256/384/512,
// RSASSA-PSS with MGF1 over the same hash and a salt as long as the hash,
// ECDSA in the IEEE P1363 form (r||s) on the curve the algorithm names, and
// Ed25519. Group.Algorithm refuses any other parameter set, so a file added
// later cannot silently test something JOSE does not use. The vectors are
// embedded, so tests in any package read them without a path; the
// Wycheproof LICENSE (Apache 2.0) sits beside them.
//
//	groups, err := wycheproof.Groups() // every file's groups, each with its JWS alg
//	for _, g := range groups {
//		jwk, err := g.JWK()
//		for _, tc := range g.Tests {
//			// verify tc.Sig over tc.Msg as g.Alg; wycheproof.Want(tc) says what must happen
//		}
//	}
package wycheproof
