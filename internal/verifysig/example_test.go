package verifysig_test

import (
	"fmt"

	"github.com/tokengate/tokengate/internal/verifysig"
)

// Both sides of the call: the plugin encodes the arguments, the host decodes
// them and answers, the plugin decodes the answer.
func Example() {
	args := verifysig.EncodeArguments(verifysig.Arguments{HashFunction: "sha256",
		PublicKey: []byte{0x30, 0x00}, Signature: []byte{0x30, 0x00}, Text: []byte("header.payload")})

	got, err := verifysig.DecodeArguments(args) // in the host
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s asked to check %q with %s\n", verifysig.FunctionName, got.Text, got.HashFunction)
	reply := verifysig.EncodeResult(verifysig.Result{Error: "signature does not verify"})

	res, err := verifysig.DecodeResult(reply) // in the plugin
	fmt.Printf("ok=%v error=%q err=%v\n", res.OK, res.Error, err)
	// Output:
	// verify_signature asked to check "header.payload" with sha256
	// ok=false error="signature does not verify" err=<nil>
}
