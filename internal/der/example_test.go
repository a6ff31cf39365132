package der_test

import (
	"encoding/hex"
	"fmt"

	"github.com/tokengate/tokengate/internal/der"
)

// A JWS ES256 signature (r||s, 32 octets each) in the ASN.1 form a proxy's
// crypto library verifies: the high bit of r gets a zero octet, and the
// leading zeros of s are dropped.
func ExampleECDSASignature() {
	jose := make([]byte, 64)
	jose[0] = 0x80  // r = 0x80 << 248
	jose[63] = 0x01 // s = 1
	sig, err := der.ECDSASignature(jose, 32)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(hex.EncodeToString(sig[:6]), "…", hex.EncodeToString(sig[len(sig)-3:]))
	fmt.Println(len(sig), "octets")
	// Output:
	// 302602210080 … 020101
	// 40 octets
}
