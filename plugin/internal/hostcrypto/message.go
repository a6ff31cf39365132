package hostcrypto

import "errors"

// Field numbers of envoy.source.extensions.common.wasm.VerifySignatureArguments.
const (
	fieldHashFunction = 1
	fieldPublicKey    = 2
	fieldSignature    = 3
	fieldText         = 4
)

// EncodeArguments returns the protobuf encoding of a VerifySignatureArguments
// message with hash (e.g. "sha256"), a DER SubjectPublicKeyInfo, the signature
// and the signed text.
func EncodeArguments(hash string, spkiDER, signature, text []byte) []byte {
	n := 4*binary10 + len(hash) + len(spkiDER) + len(signature) + len(text)
	b := make([]byte, 0, n)
	b = appendBytesField(b, fieldHashFunction, []byte(hash))
	b = appendBytesField(b, fieldPublicKey, spkiDER)
	b = appendBytesField(b, fieldSignature, signature)
	b = appendBytesField(b, fieldText, text)
	return b
}

// binary10 is the maximum size of a tag plus a length varint we emit.
const binary10 = 11

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = appendVarint(b, uint64(field)<<3|2) // wire type 2: length-delimited
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func readVarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("hostcrypto: truncated or overlong varint in verify_signature result")
}

// DecodeResult parses a VerifySignatureResult message: bool result = 1,
// string error = 2. Unknown fields are skipped; malformed input is an error.
func DecodeResult(b []byte) (ok bool, hostErr string, err error) {
	for len(b) > 0 {
		tag, n, err := readVarint(b)
		if err != nil {
			return false, "", err
		}
		b = b[n:]
		field, wire := tag>>3, tag&7
		switch wire {
		case 0:
			v, n, err := readVarint(b)
			if err != nil {
				return false, "", err
			}
			b = b[n:]
			if field == 1 {
				ok = v != 0
			}
		case 2:
			l, n, err := readVarint(b)
			if err != nil {
				return false, "", err
			}
			b = b[n:]
			if l > uint64(len(b)) {
				return false, "", errors.New("hostcrypto: length-delimited field runs past the end of the verify_signature result")
			}
			if field == 2 {
				hostErr = string(b[:l])
			}
			b = b[l:]
		case 1:
			if len(b) < 8 {
				return false, "", errors.New("hostcrypto: truncated fixed64 field in verify_signature result")
			}
			b = b[8:]
		case 5:
			if len(b) < 4 {
				return false, "", errors.New("hostcrypto: truncated fixed32 field in verify_signature result")
			}
			b = b[4:]
		default:
			return false, "", errors.New("hostcrypto: unsupported wire type in verify_signature result")
		}
	}
	if ok && hostErr != "" {
		// Contradictory reply: fail closed.
		return false, hostErr, errors.New("hostcrypto: verify_signature reported success together with an error: " + hostErr)
	}
	return ok, hostErr, nil
}
