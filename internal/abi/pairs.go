package abi

import (
	"encoding/binary"
	"errors"
)

// Limits the host applies to a pairs buffer (proxy-wasm-cpp-host pairs_util).
const (
	MaxPairsBytes = 1 << 20
	MaxPairs      = 1024
)

// ErrPairsMalformed reports a pairs buffer that is truncated, too large, or
// lacks a NUL terminator after a key or value.
var ErrPairsMalformed = errors.New("abi: malformed pairs buffer")

// PairsSize returns the encoded size of pairs.
func PairsSize(pairs [][2]string) int {
	n := 4
	for _, p := range pairs {
		n += 8 + len(p[0]) + 1 + len(p[1]) + 1
	}
	return n
}

// EncodePairs serialises pairs: u32 count, count × (u32 key length, u32 value
// length), then each key and value followed by a NUL byte. All integers are
// little-endian.
func EncodePairs(pairs [][2]string) []byte {
	return AppendPairs(make([]byte, 0, PairsSize(pairs)), pairs)
}

// AppendPairs appends the encoding of pairs to dst.
func AppendPairs(dst []byte, pairs [][2]string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(pairs)))
	for _, p := range pairs {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(p[0])))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(p[1])))
	}
	for _, p := range pairs {
		dst = append(dst, p[0]...)
		dst = append(dst, 0)
		dst = append(dst, p[1]...)
		dst = append(dst, 0)
	}
	return dst
}

// DecodePairs parses a pairs buffer. An empty buffer (or a lone byte, which
// the specification allows for an empty map) decodes to no pairs. Anything
// else that does not follow the layout exactly, including bytes left over at
// the end, is ErrPairsMalformed: the decoder never guesses.
func DecodePairs(b []byte) ([][2]string, error) {
	if len(b) <= 1 {
		return nil, nil
	}
	if len(b) > MaxPairsBytes || len(b) < 4 {
		return nil, ErrPairsMalformed
	}
	n := binary.LittleEndian.Uint32(b)
	if n > MaxPairs || uint64(n)*8 > uint64(len(b)-4) {
		return nil, ErrPairsMalformed
	}
	sizes := b[4 : 4+8*n]
	data := b[4+8*n:]
	pairs := make([][2]string, n)
	for i := range pairs {
		kl := uint64(binary.LittleEndian.Uint32(sizes[8*i:]))
		vl := uint64(binary.LittleEndian.Uint32(sizes[8*i+4:]))
		if kl+vl+2 > uint64(len(data)) || data[kl] != 0 || data[kl+1+vl] != 0 {
			return nil, ErrPairsMalformed
		}
		pairs[i] = [2]string{string(data[:kl]), string(data[kl+1 : kl+1+vl])}
		data = data[kl+vl+2:]
	}
	if len(data) != 0 {
		return nil, ErrPairsMalformed
	}
	return pairs, nil
}
