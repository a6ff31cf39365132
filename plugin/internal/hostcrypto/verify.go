package hostcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
)

// ForeignFunctionName is the name Envoy registers the host verifier under.
const ForeignFunctionName = "verify_signature"

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
	if k.spki, err = MarshalSPKI(pub); err != nil {
		return nil, true, errors.New("hostcrypto: cannot encode public key as SubjectPublicKeyInfo: " + err.Error())
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
		der, err := JOSEToDER(sig, k.size)
		if err != nil {
			return false, true, err
		}
		sig = der
	} else if alg[0] != 'R' {
		return false, true, errors.New("hostcrypto: algorithm " + alg + " does not match an RSA key")
	}
	reply, err := call(ForeignFunctionName, EncodeArguments(hash, k.spki, sig, signingInput))
	if err != nil {
		return false, true, errors.New("hostcrypto: verify_signature call failed: " + err.Error())
	}
	ok, hostErr, err := DecodeResult(reply)
	if err != nil {
		return false, true, err
	}
	if !ok && hostErr != "" {
		// The host refused: report it, but this is still a rejection.
		return false, true, nil
	}
	return ok, true, nil
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
// ASN.1 DER SEQUENCE { INTEGER r, INTEGER s } form.
func JOSEToDER(sig []byte, size int) ([]byte, error) {
	if size <= 0 || len(sig) != 2*size {
		return nil, errors.New("hostcrypto: ECDSA signature has the wrong length for the curve; want r||s of equal halves")
	}
	r, s := derInt(sig[:size]), derInt(sig[size:])
	body := append(r, s...)
	out := []byte{0x30}
	out = appendDERLen(out, len(body))
	return append(out, body...), nil
}

func derInt(v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	pad := len(v) > 0 && v[0]&0x80 != 0
	l := len(v)
	if pad {
		l++
	}
	out := []byte{0x02}
	out = appendDERLen(out, l)
	if pad {
		out = append(out, 0)
	}
	return append(out, v...)
}

func appendDERLen(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	default:
		return append(b, 0x82, byte(n>>8), byte(n))
	}
}
