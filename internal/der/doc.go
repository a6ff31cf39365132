// Package der reads and writes the little DER that tokengate needs without
// crypto/x509: the SubjectPublicKeyInfo of an RSA or EC key (MarshalSPKI,
// sent to the proxy's verify_signature), the RSA key inside an X.509
// certificate (CertificateRSAKey, for a JWK's "x5c"), and an ECDSA
// signature turned from JOSE's r||s into an ASN.1 SEQUENCE
// (ECDSASignature, which the proxy expects).
//
// It is the one owner of DER in the project: the JWK parser (internal/jwk)
// and the plugin's host verifier (plugin/internal/hostcrypto) both use it,
// so there is one length encoder, one element reader and one table of
// object identifiers, proven byte for byte against crypto/x509,
// encoding/asn1 and the Wycheproof vectors' keys. crypto/x509 itself would
// add about 1.8 MB to the Wasm module, and its import of net brings a
// file-system import that Envoy 1.33–1.38 do not link; this package uses
// neither fmt nor reflection.
//
//	spki, err := der.MarshalSPKI(&rsaKey.PublicKey) // as x509.MarshalPKIXPublicKey
//	sig, err := der.ECDSASignature(joseSig, 32)     // r||s of P-256 → SEQUENCE { r, s }
//	pub, err := der.CertificateRSAKey(certDER)      // the key of an X.509 certificate
package der
