package verifysig

import "errors"

// FunctionName is the name Envoy registers the foreign function under and
// plugins call it by.
const FunctionName = "verify_signature"

// Field numbers of VerifySignatureArguments.
const (
	FieldHashFunction = 1 // string: "sha1", "sha224", "sha256", "sha384" or "sha512"
	FieldPublicKey    = 2 // bytes: DER SubjectPublicKeyInfo
	FieldSignature    = 3 // bytes: PKCS#1 v1.5 for RSA, ASN.1 DER for ECDSA
	FieldText         = 4 // bytes: the signed text
	FieldPublicKeyPEM = 5 // bytes: the key as PEM, read when public_key is empty
)

// Field numbers of VerifySignatureResult.
const (
	FieldResult = 1 // bool: the signature verifies
	FieldError  = 2 // string: why it does not, or why it could not be checked
)

// Protobuf wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// ErrMalformed is wrapped by every decoding error: the bytes are not a
// protobuf message of the expected shape, and the peer must send a
// well-formed one.
var ErrMalformed = errors.New("verifysig: malformed verify_signature message")

// malformed says what was wrong, and is ErrMalformed. (A string type keeps
// the Wasm module small: no fmt, no generated equality.)
type malformed string

func (e malformed) Error() string {
	return "verifysig: malformed verify_signature message: " + string(e)
}
func (e malformed) Unwrap() error { return ErrMalformed }

const (
	errTag           = malformed("a truncated or overlong field tag")
	errFieldZero     = malformed("field number 0")
	errVarint        = malformed("a truncated or overlong varint")
	errLength        = malformed("a length-delimited field that runs past the end")
	errFixed         = malformed("a truncated fixed-size field")
	errWireType      = malformed("an unsupported wire type (a group or a reserved type)")
	errContradiction = malformed("VerifySignatureResult says the signature verifies and carries an error")
)

// Arguments is a VerifySignatureArguments message. Empty fields are not
// encoded, as proto3 requires, so nil and empty decode alike (as nil).
type Arguments struct {
	HashFunction string
	PublicKey    []byte
	Signature    []byte
	Text         []byte
	PublicKeyPEM []byte
}

// Result is a VerifySignatureResult message.
type Result struct {
	OK    bool
	Error string
}

// EncodeArguments serializes a in field order.
func EncodeArguments(a Arguments) []byte {
	// Each field costs at most a one-octet tag and a 10-octet length.
	n := 5*11 + len(a.HashFunction) + len(a.PublicKey) + len(a.Signature) + len(a.Text) + len(a.PublicKeyPEM)
	b := make([]byte, 0, n)
	b = appendField(b, FieldHashFunction, []byte(a.HashFunction))
	b = appendField(b, FieldPublicKey, a.PublicKey)
	b = appendField(b, FieldSignature, a.Signature)
	b = appendField(b, FieldText, a.Text)
	b = appendField(b, FieldPublicKeyPEM, a.PublicKeyPEM)
	return b
}

// DecodeArguments parses a VerifySignatureArguments message. Unknown
// fields are skipped, as protobuf requires; a field of a known number but
// another wire type is unknown too. The byte slices alias b.
func DecodeArguments(b []byte) (Arguments, error) {
	var a Arguments
	for len(b) > 0 {
		f, err := nextField(&b)
		if err != nil {
			return Arguments{}, err
		}
		if f.wire != wireBytes {
			continue
		}
		switch f.number {
		case FieldHashFunction:
			a.HashFunction = string(f.bytes)
		case FieldPublicKey:
			a.PublicKey = f.bytes
		case FieldSignature:
			a.Signature = f.bytes
		case FieldText:
			a.Text = f.bytes
		case FieldPublicKeyPEM:
			a.PublicKeyPEM = f.bytes
		}
	}
	return a, nil
}

// EncodeResult serializes r. It does not judge r: a Result with OK and an
// Error encodes as it is, and DecodeResult refuses it.
func EncodeResult(r Result) []byte {
	var b []byte
	if r.OK {
		b = append(b, FieldResult<<3|wireVarint, 1)
	}
	if r.Error != "" {
		b = appendVarint(append(b, FieldError<<3|wireBytes), uint64(len(r.Error)))
		b = append(b, r.Error...)
	}
	return b
}

// DecodeResult parses a VerifySignatureResult message. A reply that says
// the signature verifies and also carries an error is contradictory and
// refused (with OK false), so that a caller never takes it for success.
func DecodeResult(b []byte) (Result, error) {
	var r Result
	for len(b) > 0 {
		f, err := nextField(&b)
		if err != nil {
			return Result{}, err
		}
		switch {
		case f.number == FieldResult && f.wire == wireVarint:
			r.OK = f.varint != 0
		case f.number == FieldError && f.wire == wireBytes:
			r.Error = string(f.bytes)
		}
	}
	if r.OK && r.Error != "" {
		return Result{Error: r.Error}, errContradiction
	}
	return r, nil
}

// field is one decoded field: varint holds a varint field's value, bytes a
// length-delimited field's content; fixed-size fields carry neither.
type field struct {
	number, wire uint64
	varint       uint64
	bytes        []byte
}

// nextField reads the field at the start of *b and advances *b past it.
// Group wire types, field number 0 and anything truncated are errors.
func nextField(b *[]byte) (field, error) {
	tag, n := varint(*b)
	if n == 0 {
		return field{}, errTag
	}
	rest := (*b)[n:]
	f := field{number: tag >> 3, wire: tag & 7}
	if f.number == 0 {
		return field{}, errFieldZero
	}
	switch f.wire {
	case wireVarint:
		if f.varint, n = varint(rest); n == 0 {
			return field{}, errVarint
		}
		rest = rest[n:]
	case wireBytes:
		l, n := varint(rest)
		if n == 0 || l > uint64(len(rest)-n) {
			return field{}, errLength
		}
		f.bytes, rest = rest[n:n+int(l)], rest[n+int(l):]
	case wireFixed64, wireFixed32:
		size := 8
		if f.wire == wireFixed32 {
			size = 4
		}
		if len(rest) < size {
			return field{}, errFixed
		}
		rest = rest[size:]
	default:
		return field{}, errWireType
	}
	*b = rest
	return f, nil
}

// varint decodes a protobuf varint of at most 10 octets; n is 0 when b does
// not start with one.
func varint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendField appends a length-delimited field; an empty one is left out.
func appendField(b []byte, number uint64, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = appendVarint(b, number<<3|wireBytes)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}
