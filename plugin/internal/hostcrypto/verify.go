package hostcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"

	"github.com/tokengate/tokengate/internal/der"
	"github.com/tokengate/tokengate/internal/verifysig"
)

// CallFunc invokes a host foreign function by name with serialized arguments.
type CallFunc func(name string, args []byte) ([]byte, error)

// hashFor maps JWS algorithms to the hash names Envoy understands. Only the
// RSASSA-PKCS1-v1_5 and ECDSA families are offered: PSS and EdDSA need
// padding or key types the host utility is not known to handle.
func hashFor(alg string) (string, bool) {
	switch alg {
	case "RS256", "ES256":
		return "sha256", true
	case "RS384", "ES384":
		return "sha384", true
	case "RS512", "ES512":
		return "sha512", true
	}
	return "", false
}

// Verify asks the host to check sig over signingInput with pub for the JWS
// algorithm alg. supported is false when alg or the key type cannot be sent
// to the host; the caller must then verify in-module. ok is true only when
// the host explicitly reported a valid signature and err is nil.
func Verify(call CallFunc, alg string, pub crypto.PublicKey, signingInput, sig []byte) (ok, supported bool, err error) {
	if _, known := hashFor(alg); !known {
		return false, false, nil
	}
	k, supported, err := NewKey(pub)
	if !supported || err != nil {
		return false, supported, err
	}
	return k.Verify(call, alg, signingInput, sig)
}

// Key is a public key encoded once for the host, so that repeated checks
// with the same key do not encode it again.
type Key struct {
	spki  []byte
	ec    bool
	curve string // EC curve name
	size  int    // EC coordinate size in bytes
}

// NewKey prepares an RSA or ECDSA public key for Key.Verify. supported is
// false for other key types (the host cannot verify Ed25519).
func NewKey(pub crypto.PublicKey) (k *Key, supported bool, err error) {
	k = &Key{}
	switch p := pub.(type) {
	case *rsa.PublicKey:
	case *ecdsa.PublicKey:
		if p == nil || p.Curve == nil {
			return nil, true, errors.New("hostcrypto: EC public key is incomplete")
		}
		k.ec, k.curve, k.size = true, p.Curve.Params().Name, (p.Curve.Params().BitSize+7)/8
	default:
		return nil, false, nil
	}
	if k.spki, err = der.MarshalSPKI(pub); err != nil {
		return nil, true, err // says what is wrong with the key
	}
	return k, true, nil
}

// Verify is the package-level Verify with a prepared key.
func (k *Key) Verify(call CallFunc, alg string, signingInput, sig []byte) (ok, supported bool, err error) {
	hash, known := hashFor(alg)
	if !known {
		return false, false, nil
	}
	if k.ec {
		if alg[0] != 'E' {
			return false, true, errors.New("hostcrypto: algorithm " + alg + " does not match an EC key")
		}
		if want := curveFor(alg); k.curve != want {
			return false, true, errors.New("hostcrypto: " + alg + " requires curve " + want + ", key uses " + k.curve)
		}
		if sig, err = der.ECDSASignature(sig, k.size); err != nil {
			return false, true, err
		}
	} else if alg[0] != 'R' {
		return false, true, errors.New("hostcrypto: algorithm " + alg + " does not match an RSA key")
	}
	reply, err := call(verifysig.FunctionName, verifysig.EncodeArguments(verifysig.Arguments{
		HashFunction: hash, PublicKey: k.spki, Signature: sig, Text: signingInput}))
	if err != nil {
		// No fmt in the module: the cause is kept as text.
		return false, true, errors.New("hostcrypto: the host's verify_signature call failed (verify in the module instead): " + err.Error())
	}
	res, err := verifysig.DecodeResult(reply)
	if err != nil {
		return false, true, err
	}
	// A refusal, with or without the host's reason, is a rejection.
	return res.OK, true, nil
}

func curveFor(alg string) string {
	switch alg {
	case "ES256":
		return "P-256"
	case "ES384":
		return "P-384"
	case "ES512":
		return "P-521"
	}
	return ""
}

// JOSEToDER converts a JWS ECDSA signature (r||s, each size bytes) into the
// ASN.1 DER SEQUENCE { INTEGER r, INTEGER s } form (internal/der).
func JOSEToDER(sig []byte, size int) ([]byte, error) { return der.ECDSASignature(sig, size) }

// MarshalSPKI encodes an RSA or ECDSA (P-256/384/521) public key as a DER
// SubjectPublicKeyInfo (internal/der); crypto/x509 would add about 1.8 MB
// to the module.
func MarshalSPKI(pub any) ([]byte, error) { return der.MarshalSPKI(pub) }
