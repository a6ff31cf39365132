package der

import "errors"

// ErrSignatureLength is returned by ECDSASignature for a signature that is
// not r||s of two halves of the curve's size.
var ErrSignatureLength = errors.New("der: the ECDSA signature has the wrong length for the curve; want r||s of equal halves")

// ECDSASignature converts a JWS ECDSA signature (r||s, each size octets,
// RFC 7518 §3.4) into the ASN.1 DER SEQUENCE { INTEGER r, INTEGER s } that
// OpenSSL and BoringSSL verify. The values are not checked against the
// curve's order: a verifier refuses them.
func ECDSASignature(sig []byte, size int) ([]byte, error) {
	if size <= 0 || len(sig) != 2*size {
		return nil, ErrSignatureLength
	}
	return element(tagSequence, integer(sig[:size]), integer(sig[size:])), nil
}
