package hostcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/verifysig"
)

// validP256Args returns arguments that verify: a P-256 key, its signature
// over a short text, hash sha256.
func validP256Args(t *testing.T, hash string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("header.payload")
	d := sha256.Sum256(text)
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return encodeArgs(hash, spki(t, &key.PublicKey), nil, sig, text)
}

// TestDecodeArgumentsReadsFieldsUpToTheLastOctet: a field may end exactly
// at the end of the message, and one octet past it is an error, never a
// panic or a shorter read.
func TestDecodeArgumentsReadsFieldsUpToTheLastOctet(t *testing.T) {
	t.Parallel()
	valid := validP256Args(t, "sha256")
	overlongTag := append([]byte{0x80 | 12<<3}, bytes.Repeat([]byte{0x80}, 9)...) // 10 octets, no end
	tests := []struct {
		name  string
		extra []byte // appended to valid arguments
		ok    bool
	}{
		{"a fixed64 field that ends at the last octet is read", []byte{12<<3 | 1, 1, 2, 3, 4, 5, 6, 7, 8}, true},
		{"a fixed64 field one octet short is an error", []byte{12<<3 | 1, 1, 2, 3, 4, 5, 6, 7}, false},
		{"a fixed32 field that ends at the last octet is read", []byte{12<<3 | 5, 1, 2, 3, 4}, true},
		{"a fixed32 field one octet short is an error", []byte{12<<3 | 5, 1, 2, 3}, false},
		{"a string field that ends at the last octet is read", []byte{12<<3 | 2, 2, 'a', 'b'}, true},
		{"a string field one octet longer than the message is an error", []byte{12<<3 | 2, 3, 'a', 'b'}, false},
		{"a string field as long as the whole message is an error", []byte{12<<3 | 2, 0x7f}, false},
		{"a tag varint of 10 octets is read", append(append([]byte{0x80 | 12<<3}, bytes.Repeat([]byte{0x80}, 8)...), 0x00, 0x01), true},
		{"a tag varint of 11 octets is an error", append(append(overlongTag, 0x00), 0x01), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]byte(nil), valid...), tt.extra...)
			out, err := VerifySignature(args)
			if !tt.ok {
				if err == nil {
					t.Fatalf("accepted, answered %x", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok, reason := decodeResult(t, out); !ok {
				t.Fatalf("refused: %s", reason)
			}
		})
	}
}

// TestEncodeResultWritesTheLengthAsOneVarint: a reason of 127 octets has a
// one-octet length, one of 128 a two-octet length (0x80 0x01), as protobuf
// requires.
func TestEncodeResultWritesTheLengthAsOneVarint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		length int
		prefix []byte
	}{
		{"127 octets have a one-octet length", 127, []byte{verifysig.FieldError<<3 | 2, 0x7f}},
		{"128 octets have a two-octet length", 128, []byte{verifysig.FieldError<<3 | 2, 0x80, 0x01}},
		{"300 octets have a two-octet length", 300, []byte{verifysig.FieldError<<3 | 2, 0xac, 0x02}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason := strings.Repeat("r", tt.length)
			want := append(append([]byte(nil), tt.prefix...), reason...)
			if got := encodeResult(false, reason); !bytes.Equal(got, want) {
				t.Fatalf("encodeResult = %x…, want %x…", got[:min(len(got), 4)], want[:4])
			}
		})
	}
}

// TestUnsupportedHashReasonShowsUpTo32Characters: the reason quotes an
// unknown hash name whole up to 32 characters and cuts a longer one there.
func TestUnsupportedHashReasonShowsUpTo32Characters(t *testing.T) {
	t.Parallel()
	name32 := strings.Repeat("h", 32)
	tests := []struct {
		name, hash, quoted string
	}{
		{"a name of 32 characters is quoted whole", name32, `"` + name32 + `"`},
		{"a name of 33 characters is cut after 32", name32 + "x", `"` + name32 + `…"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := VerifySignature(validP256Args(t, tt.hash))
			if err != nil {
				t.Fatal(err)
			}
			ok, reason := decodeResult(t, out)
			if ok || !strings.Contains(reason, "unsupported hash function "+tt.quoted+";") {
				t.Fatalf("got ok=%v reason=%q, want it to quote %s", ok, reason, tt.quoted)
			}
		})
	}
}
