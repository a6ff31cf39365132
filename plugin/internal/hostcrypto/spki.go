package hostcrypto

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"math/big"
)

// DER object identifiers, pre-encoded with tag and length.
var (
	oidRSAEncryption = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	derNull          = []byte{0x05, 0x00}
	oidECPublicKey   = []byte{0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}
	oidP256          = []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}
	oidP384          = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}
	oidP521          = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}
)

// MarshalSPKI encodes an RSA or ECDSA (P-256/384/521) public key as a DER
// SubjectPublicKeyInfo. It is hand-rolled because crypto/x509 adds about
// 1.8 MB to a wasip1 module.
func MarshalSPKI(pub any) ([]byte, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.N.Sign() <= 0 || k.E <= 0 {
			return nil, errors.New("hostcrypto: RSA public key is incomplete")
		}
		inner := derSeq(append(derInt(k.N.Bytes()), derInt(big.NewInt(int64(k.E)).Bytes())...))
		return derSeq(append(derSeq(append(append([]byte{}, oidRSAEncryption...), derNull...)), derBitString(inner)...)), nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return nil, errors.New("hostcrypto: EC public key is incomplete")
		}
		var curve []byte
		switch k.Curve.Params().Name {
		case "P-256":
			curve = oidP256
		case "P-384":
			curve = oidP384
		case "P-521":
			curve = oidP521
		default:
			return nil, errors.New("hostcrypto: EC curve " + k.Curve.Params().Name + " is not supported; use P-256, P-384 or P-521")
		}
		point, err := k.Bytes()
		if err != nil {
			return nil, errors.New("hostcrypto: invalid EC public key: " + err.Error())
		}
		return derSeq(append(derSeq(append(append([]byte{}, oidECPublicKey...), curve...)), derBitString(point)...)), nil
	}
	return nil, errors.New("hostcrypto: only RSA and ECDSA public keys can be sent to the host")
}

func derSeq(body []byte) []byte {
	out := appendDERLen([]byte{0x30}, len(body))
	return append(out, body...)
}

func derBitString(v []byte) []byte {
	out := appendDERLen([]byte{0x03}, len(v)+1)
	out = append(out, 0) // no unused bits
	return append(out, v...)
}
