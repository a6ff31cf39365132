package hostverify

// This file is all this package uses of plugin/internal/hostcrypto, which
// owns verify_signature's wire format and the rule of which signatures the
// host may decide.

import (
	"crypto"
	"encoding/hex"

	"github.com/tokengate/tokengate/plugin/internal/hostcrypto"
)

// A P-256 key (SubjectPublicKeyInfo) and an ES256 signature (r‖s) of
// selfTestText, to check that the host's verify_signature answers correctly
// before trusting it.
const (
	selfTestKey  = "3059301306072a8648ce3d020106082a8648ce3d030107034200044535d4285509d84162adf4cdcad96645cdc8fe3d032003fecb501671953841e52d6972a9ce4be9fa857c1b3860db6a98ad65f717256844a6d3182053046b804f"
	selfTestSig  = "96ab03c4d76e19a8d1174af0ea86edc3e89ea12951bcee3578dd40bcdf3d7909f6f8674ef152d422ad7629c9945181b239e7ce3b3cdc89265a90c6ec3c62ab46"
	selfTestText = "tokengate verify_signature self-test"
)

// selfTest asks the host to check the self-test signature over its text, or,
// if forged, over other text. It returns the host's answer.
func selfTest(call hostcrypto.CallFunc, forged bool) (valid bool, err error) {
	key, _ := hex.DecodeString(selfTestKey)
	jose, _ := hex.DecodeString(selfTestSig)
	sig, err := hostcrypto.JOSEToDER(jose, 32)
	if err != nil {
		return false, err
	}
	text := selfTestText
	if forged {
		text += "."
	}
	reply, err := call(hostcrypto.ForeignFunctionName, hostcrypto.EncodeArguments("sha256", key, sig, []byte(text)))
	if err != nil {
		return false, err
	}
	valid, _, err = hostcrypto.DecodeResult(reply)
	return valid, err
}

// decidesAlike reports whether the host is known to decide sig under key
// exactly as the module does.
func decidesAlike(key crypto.PublicKey, sig []byte) bool { return hostcrypto.Comparable(key, sig) }

// hostKey is a public key encoded once for the host.
type hostKey hostcrypto.Key

// encodeKey encodes key for the host, or returns nil if the host cannot take it.
func encodeKey(key crypto.PublicKey) *hostKey {
	k, supported, err := hostcrypto.NewKey(key)
	if !supported || err != nil {
		return nil
	}
	return (*hostKey)(k)
}

// verify asks the host; handled is false when the algorithm cannot go to the
// host or the call failed, and the module must decide.
func (k *hostKey) verify(call hostcrypto.CallFunc, alg string, input, sig []byte) (ok, handled bool) {
	ok, supported, err := (*hostcrypto.Key)(k).Verify(call, alg, input, sig)
	if err != nil || !supported {
		return false, false
	}
	return ok, true
}
