package der

import (
	"errors"
)

// ErrMalformed is wrapped by every error about bytes that are not the DER
// expected.
var ErrMalformed = errors.New("der: malformed DER")

// DER tags.
const (
	tagInteger   = 0x02
	tagBitString = 0x03
	tagNull      = 0x05
	tagOID       = 0x06
	tagSequence  = 0x30
	tagVersion   = 0xa0 // [0] EXPLICIT in TBSCertificate
)

// Object identifiers, as the content octets of an OBJECT IDENTIFIER.
var (
	oidRSAEncryption = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01} // 1.2.840.113549.1.1.1
	oidECPublicKey   = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}             // 1.2.840.10045.2.1
	oidP256          = []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}       // 1.2.840.10045.3.1.7
	oidP384          = []byte{0x2b, 0x81, 0x04, 0x00, 0x22}                         // 1.3.132.0.34
	oidP521          = []byte{0x2b, 0x81, 0x04, 0x00, 0x23}                         // 1.3.132.0.35
)

// appendLength appends a definite length in its minimal form.
func appendLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n < 0x100:
		return append(b, 0x81, byte(n))
	case n < 0x10000:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

// appendElement appends one TLV.
func appendElement(b []byte, tag byte, content ...[]byte) []byte {
	n := 0
	for _, c := range content {
		n += len(c)
	}
	b = appendLength(append(b, tag), n)
	for _, c := range content {
		b = append(b, c...)
	}
	return b
}

// element returns one TLV: the tag, its content and what follows it.
func element(tag byte, content ...[]byte) []byte { return appendElement(nil, tag, content...) }

// integer encodes the unsigned big-endian magnitude v as a DER INTEGER:
// leading zero octets dropped, one zero octet added when the high bit is
// set, so that the value stays positive.
func integer(v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) == 0 {
		v = []byte{0}
	}
	if v[0]&0x80 != 0 {
		return element(tagInteger, []byte{0}, v)
	}
	return element(tagInteger, v)
}

// bitString encodes v as a BIT STRING with no unused bits.
func bitString(v []byte) []byte { return element(tagBitString, []byte{0}, v) }

// next splits the first TLV off b. It accepts definite lengths only, in
// minimal form, as DER requires.
func next(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, malformed("an element shorter than its tag and length")
	}
	tag, n := b[0], int(b[1])
	b = b[2:]
	if n&0x80 != 0 {
		octets := n & 0x7f
		if octets == 0 {
			return 0, nil, nil, malformed("an indefinite length, which DER forbids")
		}
		if octets > 4 || len(b) < octets || b[0] == 0 {
			return 0, nil, nil, malformed("a length that is too long, truncated or not minimal")
		}
		n = 0
		for _, o := range b[:octets] {
			n = n<<8 | int(o)
		}
		if n < 0x80 {
			return 0, nil, nil, malformed("a long-form length below 128, which DER writes in short form")
		}
		b = b[octets:]
	}
	if n < 0 || n > len(b) {
		return 0, nil, nil, malformed("an element that runs past the end")
	}
	return tag, b[:n], b[n:], nil
}

// expect reads one element with the given tag.
func expect(b []byte, want byte) (content, rest []byte, err error) {
	tag, content, rest, err := next(b)
	if err == nil && tag != want {
		err = malformed("an unexpected tag")
	}
	return content, rest, err
}

// malformed says what was wrong, and is ErrMalformed. (A string type keeps
// the Wasm module small: no fmt, no generated equality.)
type malformed string

func (e malformed) Error() string { return "der: malformed DER: " + string(e) }
func (e malformed) Unwrap() error { return ErrMalformed }
