//go:build wasip1

package main

import (
	"crypto"
	"encoding/hex"
	"unsafe"

	"github.com/tokengate/tokengate/plugin/internal/gate"
	"github.com/tokengate/tokengate/plugin/internal/hostcrypto"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// A P-256 key and an ES256 signature of selfTestText, to check once that the
// host's verify_signature exists and answers correctly before trusting it:
// the valid signature must be accepted and the same signature over other
// text refused.
const (
	selfTestKey  = "3059301306072a8648ce3d020106082a8648ce3d030107034200044535d4285509d84162adf4cdcad96645cdc8fe3d032003fecb501671953841e52d6972a9ce4be9fa857c1b3860db6a98ad65f717256844a6d3182053046b804f"
	selfTestSig  = "96ab03c4d76e19a8d1174af0ea86edc3e89ea12951bcee3578dd40bcdf3d7909f6f8674ef152d422ad7629c9945181b239e7ce3b3cdc89265a90c6ec3c62ab46"
	selfTestText = "tokengate verify_signature self-test"
)

// hostCrypto remembers the outcome of the self-test. It runs at the first
// configuration of the VM, not in _initialize, which every VM clone pays
// for; the host's functions do not change during the VM's life.
var hostCrypto struct{ checked, usable bool }

// hostVerifier returns a verifier that checks RS256/384/512 and
// ES256/384/512 signatures with the host's native crypto, or nil when the
// host has no working verify_signature (then the module verifies).
func hostVerifier() gate.Verifier {
	if !hostCrypto.checked {
		hostCrypto.checked = true
		hostCrypto.usable = hostSelfTest()
	}
	if !hostCrypto.usable {
		return nil
	}
	return verifyOnHost
}

func hostSelfTest() bool {
	key, _ := hex.DecodeString(selfTestKey)
	jose, _ := hex.DecodeString(selfTestSig)
	sig, err := hostcrypto.JOSEToDER(jose, 32)
	if err != nil {
		return false
	}
	answer := func(text string) (ok bool, err error) {
		reply, err := proxywasm.CallForeignFunction(hostcrypto.ForeignFunctionName,
			hostcrypto.EncodeArguments("sha256", key, sig, []byte(text)))
		if err != nil {
			return false, err
		}
		ok, _, err = hostcrypto.DecodeResult(reply)
		return ok, err
	}
	valid, err := answer(selfTestText)
	if err != nil {
		// Most often NotFound: this host has no verify_signature.
		proxywasm.LogDebug("signatures are verified in the module: the host's verify_signature is unavailable: " + err.Error())
		return false
	}
	forged, err := answer(selfTestText + ".")
	if !valid || forged || err != nil {
		proxywasm.LogWarn("signatures are verified in the module: the host's verify_signature answered its self-test wrongly")
		return false
	}
	proxywasm.LogInfo("RS256/384/512 and ES256/384/512 signatures are verified by the host's verify_signature")
	return true
}

// hostKeys holds keys already encoded for the host, by key. Keys are
// created when a configuration is compiled and never changed afterwards, so
// an encoding cannot go stale; a reconfiguration brings new ones, so the map
// is emptied when it grows past maxHostKeys.
var hostKeys = map[any]*hostcrypto.Key{}

const maxHostKeys = 256

// verifyOnHost hands a signature to the host when the host's answer is
// known to equal the module's; everything else stays in the module.
func verifyOnHost(alg string, key crypto.PublicKey, signingInput string, sig []byte) (ok, handled bool) {
	// Only RSA and ECDSA keys pass (pointers, comparable as map keys), and
	// only signatures on which the host is known to decide as the module.
	if !hostcrypto.Comparable(key, sig) {
		return false, false
	}
	hk := hostKeys[key]
	if hk == nil {
		var supported bool
		var err error
		if hk, supported, err = hostcrypto.NewKey(key); !supported || err != nil {
			return false, false
		}
		if len(hostKeys) >= maxHostKeys {
			clear(hostKeys)
		}
		hostKeys[key] = hk
	}
	// The host only reads the input, and the arguments are a copy: view the
	// string's bytes instead of copying them once more.
	input := unsafe.Slice(unsafe.StringData(signingInput), len(signingInput))
	ok, supported, err := hk.Verify(proxywasm.CallForeignFunction, alg, input, sig)
	if err != nil || !supported {
		return false, false
	}
	return ok, true
}
