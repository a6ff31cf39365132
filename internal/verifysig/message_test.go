package verifysig

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncodeArguments(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte{'k'}, 200)
	tests := []struct {
		name string
		args Arguments
		want []byte
	}{
		{name: "every field is written in field order",
			args: Arguments{HashFunction: "sha256", PublicKey: []byte{0x30}, Signature: []byte{1}, Text: []byte("t"), PublicKeyPEM: []byte("p")},
			want: []byte{0x0a, 6, 's', 'h', 'a', '2', '5', '6', 0x12, 1, 0x30, 0x1a, 1, 1, 0x22, 1, 't', 0x2a, 1, 'p'}},
		{name: "empty fields are left out, as proto3 requires",
			args: Arguments{HashFunction: "sha1", Text: []byte{}},
			want: []byte{0x0a, 4, 's', 'h', 'a', '1'}},
		{name: "no fields is the empty message", args: Arguments{}, want: nil},
		{name: "a key of 200 octets takes a two-octet length",
			args: Arguments{PublicKey: long},
			want: append([]byte{0x12, 0xc8, 0x01}, long...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeArguments(tt.args); !bytes.Equal(got, tt.want) {
				t.Fatalf("got  %x\nwant %x", got, tt.want)
			}
		})
	}
}

func TestDecodeArguments(t *testing.T) {
	t.Parallel()
	full := EncodeArguments(Arguments{HashFunction: "sha256", PublicKey: []byte{0x30}, Signature: []byte{1}, Text: []byte("t")})
	tests := []struct {
		name    string
		in      []byte
		want    Arguments
		wantErr string // substring of the error; "" when it must decode
	}{
		{name: "the plugin's encoding decodes", in: full,
			want: Arguments{HashFunction: "sha256", PublicKey: []byte{0x30}, Signature: []byte{1}, Text: []byte("t")}},
		{name: "a PEM key decodes", in: []byte{0x2a, 2, 'p', 'k'}, want: Arguments{PublicKeyPEM: []byte("pk")}},
		{name: "no bytes is the empty message", in: nil, want: Arguments{}},
		{name: "unknown varint, fixed64 and fixed32 fields are skipped",
			in:   append([]byte{9 << 3, 1, 10<<3 | 1, 0, 0, 0, 0, 0, 0, 0, 0, 11<<3 | 5, 0, 0, 0, 0}, full...),
			want: Arguments{HashFunction: "sha256", PublicKey: []byte{0x30}, Signature: []byte{1}, Text: []byte("t")}},
		{name: "a known field number with a varint wire type is skipped as unknown",
			in: []byte{FieldText << 3, 5, 0x22, 1, 'x'}, want: Arguments{Text: []byte("x")}},
		{name: "the last of a repeated field wins",
			in: []byte{0x22, 1, 'a', 0x22, 1, 'b'}, want: Arguments{Text: []byte("b")}},
		{name: "a field that runs past the end is refused", in: []byte{FieldText<<3 | 2, 10, 'a'}, wantErr: "runs past the end"},
		{name: "a length varint that never ends is refused", in: []byte{FieldText<<3 | 2, 0x80}, wantErr: "runs past the end"},
		{name: "a truncated tag is refused", in: []byte{0x80}, wantErr: "field tag"},
		{name: "a start-group wire type is refused", in: []byte{FieldText<<3 | 3}, wantErr: "unsupported wire type"},
		{name: "an end-group wire type is refused", in: []byte{FieldText<<3 | 4}, wantErr: "unsupported wire type"},
		{name: "field number zero is refused", in: []byte{0x02, 0x00}, wantErr: "field number 0"},
		{name: "a truncated fixed64 field is refused", in: []byte{10<<3 | 1, 1, 2, 3}, wantErr: "fixed-size"},
		{name: "a truncated varint field is refused", in: []byte{9 << 3, 0xff}, wantErr: "varint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeArguments(tt.in)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrMalformed saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalArguments(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEncodeResult(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  Result
		want []byte
	}{
		{name: "a verified signature is result true alone", res: Result{OK: true}, want: []byte{0x08, 0x01}},
		{name: "a refusal is the reason alone, result false left out", res: Result{Error: "bad"}, want: []byte{0x12, 3, 'b', 'a', 'd'}},
		{name: "false without a reason is the empty message", res: Result{}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeResult(tt.res); !bytes.Equal(got, tt.want) {
				t.Fatalf("got %x, want %x", got, tt.want)
			}
		})
	}
}

func TestDecodeResult(t *testing.T) {
	t.Parallel()
	overlong := append([]byte{0x08}, bytes.Repeat([]byte{0x80}, 10)...) // result = a varint of 11 octets
	tests := []struct {
		name    string
		in      []byte
		want    Result
		wantErr bool
	}{
		{name: "an empty message means false", in: nil},
		{name: "result true is success", in: []byte{0x08, 0x01}, want: Result{OK: true}},
		{name: "any non-zero result is true", in: []byte{0x08, 0x7f}, want: Result{OK: true}},
		{name: "an error string is read", in: []byte{0x12, 0x03, 'b', 'a', 'd'}, want: Result{Error: "bad"}},
		{name: "an unknown field is skipped", in: []byte{0x18, 0x05, 0x08, 0x01}, want: Result{OK: true}},
		{name: "result as a string is an unknown field, not success", in: []byte{0x0a, 0x01, 0x01}},
		{name: "a truncated string is an error", in: []byte{0x12, 0x05, 'a'}, wantErr: true},
		{name: "success with an error string fails closed", in: []byte{0x08, 0x01, 0x12, 0x01, 'x'}, want: Result{Error: "x"}, wantErr: true},
		{name: "a truncated varint is an error", in: []byte{0x08, 0x80}, wantErr: true},
		{name: "a varint of 10 octets is read", in: append(append([]byte{0x08}, bytes.Repeat([]byte{0x81}, 9)...), 0x01), want: Result{OK: true}},
		{name: "a varint of 11 octets is an error", in: append(overlong, 0x01), wantErr: true},
		{name: "a fixed64 field is skipped", in: []byte{0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x01}, want: Result{OK: true}},
		{name: "a fixed64 field of 7 octets is an error", in: []byte{0x08, 0x01, 0x19, 1, 2, 3, 4, 5, 6, 7}, wantErr: true},
		{name: "a fixed32 field is skipped", in: []byte{0x1d, 1, 2, 3, 4, 0x08, 0x01}, want: Result{OK: true}},
		{name: "a fixed32 field of 3 octets is an error", in: []byte{0x08, 0x01, 0x1d, 1, 2, 3}, wantErr: true},
		{name: "a group wire type is an error", in: []byte{0x08, 0x01, 0x1b}, wantErr: true},
		{name: "a string that ends exactly at the end is read", in: []byte{0x12, 0x01, 'x'}, want: Result{Error: "x"}},
		{name: "result false after result true is false", in: []byte{0x08, 0x01, 0x08, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeResult(tt.in)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Fatalf("err = %v, want an ErrMalformed: %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzRoundTrip proves both messages: what is encoded decodes to the same
// message, and any bytes either decode without panicking or are refused;
// what decodes re-encodes to a message that decodes to the same again.
func FuzzRoundTrip(f *testing.F) {
	f.Add("sha256", []byte{0x30, 0x01, 0x00}, []byte{1, 2}, []byte("h.p"), []byte(nil), true, "", []byte{0x08, 0x01})
	f.Add("", []byte(nil), []byte(nil), []byte(nil), []byte("-----BEGIN PUBLIC KEY-----"), false, "signature does not verify",
		[]byte("\n\x06sha256\x12\x03\x30\x01\x00\x1a\x01\x01\"\x01t"))
	f.Fuzz(func(t *testing.T, hash string, key, sig, text, pem []byte, ok bool, reason string, raw []byte) {
		in := Arguments{HashFunction: hash, PublicKey: key, Signature: sig, Text: text, PublicKeyPEM: pem}
		got, err := DecodeArguments(EncodeArguments(in))
		if err != nil {
			t.Fatalf("encoded arguments %+v do not decode: %v", in, err)
		}
		if !equalArguments(got, in) {
			t.Fatalf("arguments %+v came back as %+v", in, got)
		}
		res := Result{OK: ok, Error: reason}
		back, err := DecodeResult(EncodeResult(res))
		switch {
		case ok && reason != "":
			if err == nil || back.OK {
				t.Fatalf("a success with the error %q decoded as %+v, %v", reason, back, err)
			}
		case err != nil || back != res:
			t.Fatalf("result %+v came back as %+v, %v", res, back, err)
		}

		if a, err := DecodeArguments(raw); err == nil {
			if again, err := DecodeArguments(EncodeArguments(a)); err != nil || !equalArguments(again, a) {
				t.Fatalf("%x decoded as %+v, which re-encodes as %+v, %v", raw, a, again, err)
			}
		}
		if r, err := DecodeResult(raw); err == nil {
			if r.OK && r.Error != "" {
				t.Fatalf("%x decoded as a success with an error", raw)
			}
			if again, err := DecodeResult(EncodeResult(r)); err != nil || again != r {
				t.Fatalf("%x decoded as %+v, which re-encodes as %+v, %v", raw, r, again, err)
			}
		} else if r.OK {
			t.Fatalf("%x: an error together with success", raw)
		}
	})
}

// equalArguments compares field by field, nil and empty alike.
func equalArguments(a, b Arguments) bool {
	return a.HashFunction == b.HashFunction && bytes.Equal(a.PublicKey, b.PublicKey) && bytes.Equal(a.Signature, b.Signature) &&
		bytes.Equal(a.Text, b.Text) && bytes.Equal(a.PublicKeyPEM, b.PublicKeyPEM)
}
