// Package hostcrypto gives the Go host (host/, tokengate-proxy, testhost)
// the "verify_signature" foreign function that Envoy registers for Proxy-Wasm
// modules, so a plugin checks signatures with native crypto under either
// proxy instead of doing the public-key arithmetic inside the Wasm module.
//
// VerifySignature takes a serialized VerifySignatureArguments message (hash
// function name, public key as DER SubjectPublicKeyInfo or PEM, signature,
// signed text) and returns a serialized VerifySignatureResult, as Envoy 1.40
// does: RSASSA-PKCS1-v1_5 for RSA keys, ASN.1 DER signatures for ECDSA keys,
// hashes sha1, sha224, sha256, sha384 and sha512. A signature that does not
// verify, or a key type or hash it cannot use, is answered with result false
// and a reason; arguments that cannot be decoded are an error (Envoy answers
// BAD_ARGUMENT).
//
//	p, err := host.Load(ctx, wasm,
//		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature))
package hostcrypto
