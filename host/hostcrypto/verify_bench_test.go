package hostcrypto

import "testing"

func BenchmarkVerifySignature(b *testing.B) {
	f := newFixture(b)
	for _, c := range []struct {
		name string
		args []byte
	}{
		{"RS256", encodeArgs("sha256", spki(b, &f.rsaKey.PublicKey), nil, f.rsaSig[256], f.text)},
		{"ES256", encodeArgs("sha256", spki(b, &f.ecKeys[256].PublicKey), nil, f.ecSigDER[256], f.text)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := VerifySignature(c.args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
