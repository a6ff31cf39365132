package hostcrypto

import "errors"

// Field numbers of envoy.source.extensions.common.wasm.VerifySignatureArguments
// and VerifySignatureResult.
const (
	argHashFunction = 1
	argPublicKey    = 2
	argSignature    = 3
	argText         = 4
	argPublicKeyPEM = 5

	resultOK    = 1
	resultError = 2
)

// arguments is a decoded VerifySignatureArguments message.
type arguments struct {
	hash                    string
	publicKey, publicKeyPEM []byte
	signature, text         []byte
}

// decodeArguments parses the protobuf wire format of the arguments. Unknown
// fields are skipped, as protobuf requires; a truncated or malformed message
// is an error.
func decodeArguments(b []byte) (arguments, error) {
	var a arguments
	for len(b) > 0 {
		tag, n := varint(b)
		if n == 0 {
			return a, errors.New("hostcrypto: malformed field tag in verify_signature arguments")
		}
		b = b[n:]
		field, wire := tag>>3, tag&7
		if field == 0 {
			return a, errors.New("hostcrypto: field number 0 in verify_signature arguments")
		}
		switch wire {
		case 0:
			if _, n = varint(b); n == 0 {
				return a, errors.New("hostcrypto: truncated varint in verify_signature arguments")
			}
			b = b[n:]
		case 1, 5:
			size := 8
			if wire == 5 {
				size = 4
			}
			if len(b) < size {
				return a, errors.New("hostcrypto: truncated fixed-size field in verify_signature arguments")
			}
			b = b[size:]
		case 2:
			l, n := varint(b)
			if n == 0 || l > uint64(len(b)-n) {
				return a, errors.New("hostcrypto: a length-delimited field runs past the end of the verify_signature arguments")
			}
			v := b[n : n+int(l)]
			b = b[n+int(l):]
			switch field {
			case argHashFunction:
				a.hash = string(v)
			case argPublicKey:
				a.publicKey = v
			case argSignature:
				a.signature = v
			case argText:
				a.text = v
			case argPublicKeyPEM:
				a.publicKeyPEM = v
			}
		default:
			return a, errors.New("hostcrypto: unsupported wire type in verify_signature arguments")
		}
	}
	return a, nil
}

// varint decodes a protobuf varint; n is 0 when b does not start with one.
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

// encodeResult serializes a VerifySignatureResult.
func encodeResult(ok bool, reason string) []byte {
	var b []byte
	if ok {
		b = append(b, resultOK<<3|0, 1)
	}
	if reason != "" {
		b = appendVarint(append(b, resultError<<3|2), uint64(len(reason)))
		b = append(b, reason...)
	}
	return b
}
