package hostcrypto

import "github.com/tokengate/tokengate/internal/verifysig"

// ForeignFunctionName is the name Envoy registers the host verifier under.
const ForeignFunctionName = verifysig.FunctionName

// EncodeArguments returns the protobuf encoding of a VerifySignatureArguments
// message with hash (e.g. "sha256"), a DER SubjectPublicKeyInfo, the signature
// and the signed text. The format is internal/verifysig's, which the Go host
// decodes too.
func EncodeArguments(hash string, spkiDER, signature, text []byte) []byte {
	return verifysig.EncodeArguments(verifysig.Arguments{HashFunction: hash, PublicKey: spkiDER, Signature: signature, Text: text})
}

// DecodeResult parses a VerifySignatureResult message (internal/verifysig):
// ok only when the host reported a valid signature and no error. Unknown
// fields are skipped; malformed input, or a success that also carries an
// error, is an error.
func DecodeResult(b []byte) (ok bool, hostErr string, err error) {
	r, err := verifysig.DecodeResult(b)
	return r.OK, r.Error, err
}
