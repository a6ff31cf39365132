// Package verifysig owns the wire format of Envoy's "verify_signature"
// foreign function: its name, the field numbers of the
// VerifySignatureArguments and VerifySignatureResult protobuf messages
// (envoy.source.extensions.common.wasm), and their encoding and decoding.
//
// Both sides of the call import it: the plugin (plugin/internal/hostcrypto)
// encodes arguments and decodes results inside the Wasm module, and the Go
// host (host/hostcrypto) decodes arguments and encodes results as Envoy
// does. A format written twice drifts, and a drift here is a signature
// check that one side reads differently from the other; so it is written
// once, with one fuzz target proving that what is encoded decodes to the
// same message and that no input makes the decoder panic.
//
// It is hand-written protobuf (length-delimited and varint fields only, as
// the messages need) without fmt, reflection or a protobuf library, because
// the plugin links it into a wasip1 module whose size matters.
//
//	args := verifysig.EncodeArguments(verifysig.Arguments{HashFunction: "sha256",
//		PublicKey: spkiDER, Signature: sig, Text: signingInput})
//	reply, err := callForeign(verifysig.FunctionName, args)
//	res, err := verifysig.DecodeResult(reply) // res.OK only for a signature that verifies
package verifysig
