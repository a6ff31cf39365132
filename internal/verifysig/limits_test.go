package verifysig

import (
	"errors"
	"testing"
)

// TestDecodeReadsFieldsUpToTheLastOctet: a fixed-size or length-delimited
// field may end exactly at the end of the message; one octet more than the
// message holds is ErrMalformed, never a panic or a shorter read. Both
// decoders share the field reader, so both are run.
func TestDecodeReadsFieldsUpToTheLastOctet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tail []byte // after a valid result=true field
		ok   bool
	}{
		{"a fixed64 field that ends at the last octet is read", []byte{0x19, 1, 2, 3, 4, 5, 6, 7, 8}, true},
		{"a fixed32 field that ends at the last octet is read", []byte{0x1d, 1, 2, 3, 4}, true},
		{"a fixed32 field one octet short is an error", []byte{0x1d, 1, 2, 3}, false},
		{"a bytes field that ends at the last octet is read", []byte{0x1a, 2, 'a', 'b'}, true},
		{"a bytes field one octet longer than the message is an error", []byte{0x1a, 3, 'a', 'b'}, false},
		{"a bytes field two octets longer than the message is an error", []byte{0x1a, 4, 'a', 'b'}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := append([]byte{FieldResult<<3 | wireVarint, 1}, tc.tail...)
			r, err := DecodeResult(msg)
			if tc.ok != (err == nil) || tc.ok != r.OK || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Fatalf("DecodeResult = %+v, %v; want ok %v", r, err, tc.ok)
			}
			args := append(EncodeArguments(Arguments{HashFunction: "sha256"}), tc.tail...)
			a, err := DecodeArguments(args)
			if tc.ok != (err == nil) || tc.ok != (a.HashFunction == "sha256") {
				t.Fatalf("DecodeArguments = %+v, %v; want ok %v", a, err, tc.ok)
			}
		})
	}
}

// TestEncodeWritesLengthsAsProtobufVarints: 127 fits in one octet, 128 is
// the first length of two (0x80 0x01), in both messages.
func TestEncodeWritesLengthsAsProtobufVarints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		length int
		prefix []byte // the field's tag and length
	}{
		{"127 octets take a one-octet length", 127, []byte{0x7f}},
		{"128 octets take a two-octet length", 128, []byte{0x80, 0x01}},
		{"16384 octets take a three-octet length", 16384, []byte{0x80, 0x80, 0x01}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := make([]byte, tc.length)
			for i := range v {
				v[i] = 'v'
			}
			res := EncodeResult(Result{Error: string(v)})
			want := append(append([]byte{FieldError<<3 | wireBytes}, tc.prefix...), v...)
			if string(res) != string(want) {
				t.Fatalf("EncodeResult starts %x, want %x", res[:min(4, len(res))], want[:4])
			}
			args := EncodeArguments(Arguments{Text: v})
			want = append(append([]byte{FieldText<<3 | wireBytes}, tc.prefix...), v...)
			if string(args) != string(want) {
				t.Fatalf("EncodeArguments starts %x, want %x", args[:min(4, len(args))], want[:4])
			}
		})
	}
}

// TestEncodeArgumentsTakesAnyFieldLongerThanTheOthers: the size estimate of
// the message never goes wrong whichever field is long (a negative estimate
// would make the encoder panic), and the long field arrives whole.
func TestEncodeArgumentsTakesAnyFieldLongerThanTheOthers(t *testing.T) {
	t.Parallel()
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'x'
	}
	for _, tc := range []struct {
		name string
		args Arguments
	}{
		{"a long hash function name", Arguments{HashFunction: string(long)}},
		{"a long public key", Arguments{HashFunction: "sha256", PublicKey: long}},
		{"a long signature", Arguments{HashFunction: "sha256", Signature: long}},
		{"a long text", Arguments{HashFunction: "sha256", Text: long}},
		{"a long PEM key", Arguments{HashFunction: "sha256", PublicKeyPEM: long}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeArguments(EncodeArguments(tc.args))
			if err != nil || !equalArguments(got, tc.args) {
				t.Fatalf("round trip = %+v, %v", got, err)
			}
		})
	}
}
