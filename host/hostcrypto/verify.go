package hostcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/pem"
	"errors"
)

// FunctionName is the name Envoy registers the function under and plugins
// call it by.
const FunctionName = "verify_signature"

// VerifySignature is the verify_signature foreign function: args is a
// serialized VerifySignatureArguments message, the reply a serialized
// VerifySignatureResult. Its signature fits host.WithForeignFunction.
//
// The reply says result true only for a signature that verifies. A wrong
// signature, an unknown hash or an unusable key type is result false with a
// reason; arguments that do not decode, or a key that does not parse, are an
// error, which the host answers with a failure status.
func VerifySignature(args []byte) ([]byte, error) {
	a, err := decodeArguments(args)
	if err != nil {
		return nil, err
	}
	pub, err := publicKey(a)
	if err != nil {
		return nil, err
	}
	h, ok := hashes[a.hash]
	if !ok {
		return encodeResult(false, "unsupported hash function "+quote(a.hash)+"; use sha1, sha224, sha256, sha384 or sha512"), nil
	}
	hh := h.New()
	hh.Write(a.text)
	digest := hh.Sum(nil)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, h, digest, a.signature) != nil {
			return encodeResult(false, "signature does not verify"), nil
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, a.signature) {
			return encodeResult(false, "signature does not verify"), nil
		}
	default:
		return encodeResult(false, "key type cannot verify a digest signature; only RSA and ECDSA keys can"), nil
	}
	return encodeResult(true, ""), nil
}

var hashes = map[string]crypto.Hash{
	"sha1":   crypto.SHA1,
	"sha224": crypto.SHA224,
	"sha256": crypto.SHA256,
	"sha384": crypto.SHA384,
	"sha512": crypto.SHA512,
}

// The hash implementations must be linked for crypto.Hash.New to work.
var _, _, _ = sha1.New, sha256.New, sha512.New

// publicKey parses the DER key, or else the PEM one.
func publicKey(a arguments) (crypto.PublicKey, error) {
	der := a.publicKey
	if len(der) == 0 {
		if len(a.publicKeyPEM) == 0 {
			return nil, errors.New("hostcrypto: verify_signature arguments carry no public key; set public_key (DER) or public_key_pem")
		}
		block, _ := pem.Decode(a.publicKeyPEM)
		if block == nil {
			return nil, errors.New("hostcrypto: public_key_pem is not PEM")
		}
		der = block.Bytes
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("hostcrypto: the public key is not a DER SubjectPublicKeyInfo: " + err.Error())
	}
	return pub, nil
}

func quote(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return `"` + s + `"`
}
