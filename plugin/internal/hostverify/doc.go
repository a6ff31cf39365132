// Package hostverify decides whether the plugin hands signature checks to
// the host's verify_signature foreign function (Envoy's native crypto, many
// times faster than Go's inside Wasm) and, when it does, makes those checks.
//
// The host is trusted only after a self-test, once per VM at its first
// configuration: a known-good ES256 signature must be accepted and the same
// signature over other text refused. A host without the function, or one that
// answers the self-test wrongly, is never asked again, and the module verifies
// every signature itself. Even a trusted host only gets the signatures on
// which it is known to decide exactly as the module (RS256/384/512 and
// ES256/384/512, see hostcrypto.Comparable); everything else stays in the
// module.
//
// Its host calls go through Host, which the Proxy-Wasm binding satisfies, so
// it is tested natively with a fake host. One Choice lives as long as its VM:
//
//	choice := hostverify.New(proxywasm.Host{}) // in init: makes no host call
//	...
//	if v := choice.Verifier(); v != nil {    // in OnPluginStart
//		opts = append(opts, gate.WithVerifier(v))
//	}
package hostverify
