package hostcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
)

// Comparable reports whether the host's verify_signature is known to decide
// sig under pub exactly as the module's crypto does, so that a filter may
// hand the check to the host. It is the one place that rule is written:
// the plugin asks it before every host check, and the Wycheproof tests
// prove with it that the host path and the module path agree.
//
// Only RSA and ECDSA keys qualify. For RSA, crypto/rsa refuses public
// exponents above 2^31-1, which BoringSSL accepts, and signatures whose
// length differs from the modulus' (BoringSSL tolerates leading zero
// octets): such edge cases stay in the module so both paths decide alike.
// An ECDSA signature of the wrong length is refused by JOSEToDER, and the
// module then refuses it too.
func Comparable(pub crypto.PublicKey, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k != nil && k.N != nil && k.E <= 1<<31-1 && len(sig) == (k.N.BitLen()+7)/8
	case *ecdsa.PublicKey:
		return k != nil
	}
	return false
}
