package der

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"math/big"
)

// ErrUnsupportedKey is wrapped by MarshalSPKI's errors for keys it cannot
// encode: other types than RSA and ECDSA, curves other than P-256, P-384
// and P-521, and incomplete keys.
var ErrUnsupportedKey = errors.New("der: unsupported public key")

// MarshalSPKI encodes an RSA or ECDSA (P-256/384/521) public key as a DER
// SubjectPublicKeyInfo, byte for byte as x509.MarshalPKIXPublicKey does.
func MarshalSPKI(pub any) ([]byte, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil || k.N.Sign() <= 0 || k.E <= 0 {
			return nil, unsupported("the RSA public key is incomplete (no modulus or no positive exponent)")
		}
		key := element(tagSequence, integer(k.N.Bytes()), integer(big.NewInt(int64(k.E)).Bytes()))
		alg := element(tagSequence, element(tagOID, oidRSAEncryption), element(tagNull))
		return element(tagSequence, alg, bitString(key)), nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return nil, unsupported("the EC public key is incomplete (no curve)")
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
			return nil, unsupported("the EC curve " + k.Curve.Params().Name + " is not supported; use P-256, P-384 or P-521")
		}
		point, err := k.Bytes()
		if err != nil {
			// crypto/ecdsa says only "invalid public key": name the cause here.
			return nil, unsupported("the EC public key is not a point on " + k.Curve.Params().Name)
		}
		alg := element(tagSequence, element(tagOID, oidECPublicKey), element(tagOID, curve))
		return element(tagSequence, alg, bitString(point)), nil
	}
	return nil, unsupported("only RSA and ECDSA public keys have a SubjectPublicKeyInfo here")
}

// unsupported says why a key cannot be encoded, and is ErrUnsupportedKey.
type unsupported string

func (e unsupported) Error() string { return "der: " + string(e) }
func (e unsupported) Unwrap() error { return ErrUnsupportedKey }
