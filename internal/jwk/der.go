package jwk

import (
	"crypto/rsa"
	"errors"
	"math/big"
)

// This file reads the RSA public key out of an X.509 certificate (for "x5c")
// with a minimal DER walker, so that the WebAssembly plugin does not link
// crypto/x509 (about 300 KB) for one field. Nothing else of the certificate
// is used or trusted.

var errDER = errors.New("malformed DER")

// derElement splits the first TLV off b. It accepts definite lengths only,
// in minimal form, as DER requires.
func derElement(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errDER
	}
	tag, n := b[0], int(b[1])
	b = b[2:]
	if n&0x80 != 0 {
		octets := n & 0x7f
		if octets == 0 || octets > 4 || len(b) < octets || b[0] == 0 {
			return 0, nil, nil, errDER
		}
		n = 0
		for _, o := range b[:octets] {
			n = n<<8 | int(o)
		}
		if n < 0x80 {
			return 0, nil, nil, errDER
		}
		b = b[octets:]
	}
	if n > len(b) {
		return 0, nil, nil, errDER
	}
	return tag, b[:n], b[n:], nil
}

// expect reads one element with the given tag.
func expect(b []byte, want byte) (content, rest []byte, err error) {
	tag, content, rest, err := derElement(b)
	if err == nil && tag != want {
		err = errDER
	}
	return content, rest, err
}

const (
	tagInteger   = 0x02
	tagBitString = 0x03
	tagOID       = 0x06
	tagSequence  = 0x30
	tagVersion   = 0xa0 // [0] EXPLICIT in TBSCertificate
)

// oidRSAEncryption is 1.2.840.113549.1.1.1.
var oidRSAEncryption = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}

// certificateRSAKey returns the RSA public key of a DER certificate.
func certificateRSAKey(der []byte) (*rsa.PublicKey, error) {
	cert, _, err := expect(der, tagSequence)
	if err != nil {
		return nil, err
	}
	tbs, _, err := expect(cert, tagSequence)
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
		return nil, errNotRSA
	}
	bits, _, err := expect(rest, tagBitString)
	if err != nil || len(bits) < 1 || bits[0] != 0 {
		return nil, errDER
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
		return nil, errDER
	}
	exp := 0
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}

var errNotRSA = errors.New("not an RSA key")
