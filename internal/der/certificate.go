package der

import (
	"crypto/rsa"
	"errors"
	"math/big"
)

// ErrNotRSA is returned by CertificateRSAKey for a well-formed certificate
// whose key is not an RSA key.
var ErrNotRSA = errors.New("der: the certificate's key is not an RSA key")

// CertificateRSAKey returns the RSA public key of a DER X.509 certificate,
// walking only as far as its SubjectPublicKeyInfo. Nothing else of the
// certificate is read, checked or trusted: the caller decides where trust
// comes from.
func CertificateRSAKey(cert []byte) (*rsa.PublicKey, error) {
	c, _, err := expect(cert, tagSequence)
	if err != nil {
		return nil, err
	}
	tbs, _, err := expect(c, tagSequence)
	if err != nil {
		return nil, err
	}
	if len(tbs) > 0 && tbs[0] == tagVersion {
		if _, tbs, err = expect(tbs, tagVersion); err != nil {
			return nil, err
		}
	}
	// serialNumber, signature, issuer, validity, subject
	for _, tag := range []byte{tagInteger, tagSequence, tagSequence, tagSequence, tagSequence} {
		if _, tbs, err = expect(tbs, tag); err != nil {
			return nil, err
		}
	}
	spki, _, err := expect(tbs, tagSequence)
	if err != nil {
		return nil, err
	}
	alg, rest, err := expect(spki, tagSequence)
	if err != nil {
		return nil, err
	}
	oid, _, err := expect(alg, tagOID)
	if err != nil {
		return nil, err
	}
	if string(oid) != string(oidRSAEncryption) {
		return nil, ErrNotRSA
	}
	bits, _, err := expect(rest, tagBitString)
	if err != nil {
		return nil, err
	}
	if len(bits) < 1 || bits[0] != 0 {
		return nil, malformed("a key BIT STRING with unused bits")
	}
	key, _, err := expect(bits[1:], tagSequence)
	if err != nil {
		return nil, err
	}
	n, rest, err := expect(key, tagInteger)
	if err != nil {
		return nil, err
	}
	e, _, err := expect(rest, tagInteger)
	if err != nil {
		return nil, err
	}
	if len(n) == 0 || n[0]&0x80 != 0 || len(e) == 0 || len(e) > 4 || e[0]&0x80 != 0 {
		return nil, malformed("an RSA modulus or exponent that is empty, negative or too large")
	}
	exp := 0
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}
