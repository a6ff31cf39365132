package hostverify

import (
	"crypto"
	"unsafe"

	"github.com/tokengate/tokengate/internal/abi"
	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// Host is what the choice needs from the proxy.
type Host interface {
	// CallForeignFunction calls a function the host registered by name; a
	// host without it answers with an error.
	CallForeignFunction(name string, args []byte) ([]byte, error)
	Log(level abi.LogLevel, msg string)
}

// maxKeys bounds the keys kept encoded for the host. Keys are created when a
// configuration is compiled and never changed afterwards, so an encoding
// cannot go stale; a reconfiguration brings new ones, so the cache is emptied
// when it is full.
const maxKeys = 256

// Choice is one VM's choice of signature verifier: it remembers the outcome
// of the host's self-test and the keys already encoded for the host. A VM
// runs one callback at a time, so it needs no locking.
type Choice struct {
	host            Host
	call            func(name string, args []byte) ([]byte, error) // host.CallForeignFunction, bound once
	checked, usable bool
	keys            map[crypto.PublicKey]*hostKey
	verifier        gate.Verifier
}

// New returns the choice for one VM. It makes no host call, so it may run in
// an init function (inside _initialize, where Envoy allows almost none).
func New(h Host) *Choice {
	c := &Choice{host: h, call: h.CallForeignFunction, keys: map[crypto.PublicKey]*hostKey{}}
	c.verifier = c.verify
	return c
}

// Verifier returns the verifier to give gate.WithVerifier: one that checks
// RS256/384/512 and ES256/384/512 signatures with the host's crypto, or nil
// when the host has no working verify_signature (then the module verifies
// every signature). The first call runs the self-test; its outcome holds for
// the life of the VM, whose host functions do not change.
func (c *Choice) Verifier() gate.Verifier {
	if !c.checked {
		c.checked = true
		c.usable = c.selfTest()
	}
	if !c.usable {
		return nil
	}
	return c.verifier
}

func (c *Choice) selfTest() bool {
	valid, err := selfTest(c.call, false)
	if err != nil {
		// Most often NotFound: this host has no verify_signature.
		c.host.Log(abi.LogDebug, "signatures are verified in the module: the host's verify_signature is unavailable: "+err.Error())
		return false
	}
	forged, err := selfTest(c.call, true)
	if !valid || forged || err != nil {
		c.host.Log(abi.LogWarn, "signatures are verified in the module: the host's verify_signature answered its self-test wrongly")
		return false
	}
	c.host.Log(abi.LogInfo, "RS256/384/512 and ES256/384/512 signatures are verified by the host's verify_signature")
	return true
}

// verify is a gate.Verifier: it hands a signature to the host when the
// host's answer is known to equal the module's, and leaves everything else
// (handled false) to the module, including a host call that failed.
func (c *Choice) verify(alg string, key crypto.PublicKey, signingInput string, sig []byte) (ok, handled bool) {
	// Only RSA and ECDSA keys pass (pointers, comparable as map keys), and
	// only signatures on which the host is known to decide as the module.
	if !decidesAlike(key, sig) {
		return false, false
	}
	hk := c.keys[key]
	if hk == nil {
		if hk = encodeKey(key); hk == nil {
			return false, false
		}
		if len(c.keys) >= maxKeys {
			clear(c.keys)
		}
		c.keys[key] = hk
	}
	// The host only reads the input, and the arguments are a copy: view the
	// string's bytes instead of copying them once more.
	input := unsafe.Slice(unsafe.StringData(signingInput), len(signingInput))
	return hk.verify(c.call, alg, input, sig)
}
