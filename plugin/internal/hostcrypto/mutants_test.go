package hostcrypto

import (
	"bytes"
	"testing"
)

// Tests in this file kill mutants that survived the rest of the suite (see
// MUTANTS.md): the limits of the reply decoder.

func TestDecodeResultLimits(t *testing.T) {
	t.Parallel()
	overlong := append([]byte{0x08}, bytes.Repeat([]byte{0x80}, 10)...) // result = varint of 11 octets
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
		err  bool
	}{
		{"a varint of 10 octets is read", append(append([]byte{0x08}, bytes.Repeat([]byte{0x81}, 9)...), 0x01), true, false},
		{"a varint of 11 octets is an error", append(overlong, 0x01), false, true},
		{"a fixed64 field is skipped", []byte{0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x01}, true, false},
		{"a fixed64 field of 7 octets is an error", []byte{0x08, 0x01, 0x19, 1, 2, 3, 4, 5, 6, 7}, false, true},
		{"a fixed32 field is skipped", []byte{0x1d, 1, 2, 3, 4, 0x08, 0x01}, true, false},
		{"a fixed32 field of 3 octets is an error", []byte{0x08, 0x01, 0x1d, 1, 2, 3}, false, true},
		{"a group wire type is an error", []byte{0x08, 0x01, 0x1b}, false, true},
		{"a string that ends exactly at the end is read", []byte{0x12, 0x01, 'x'}, false, false},
		{"result false after result true is false", []byte{0x08, 0x01, 0x08, 0x00}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, _, err := DecodeResult(tc.in)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Fatalf("got ok=%v err=%v", ok, err)
			}
		})
	}
}
