package abi

import (
	"encoding/binary"
	"errors"
	"slices"
	"unsafe"
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
func DecodePairs(b []byte) ([][2]string, error) { return decodePairs(nil, b, false) }

// AppendPairsView decodes b like DecodePairs and appends the pairs to dst,
// without copying: every key and value is a string that aliases b, so b MUST
// NOT change while any of them is in use. The plugin's binding decodes each
// request's headers with it into a slice it reuses, straight from the memory
// the host wrote them to, so reading the headers allocates nothing. On error
// dst is returned unchanged in length.
func AppendPairsView(dst [][2]string, b []byte) ([][2]string, error) {
	return decodePairs(dst, b, true)
}

func decodePairs(dst [][2]string, b []byte, alias bool) ([][2]string, error) {
	if len(b) <= 1 {
		return dst, nil
	}
	if len(b) > MaxPairsBytes || len(b) < 4 {
		return dst, ErrPairsMalformed
	}
	n := binary.LittleEndian.Uint32(b)
	if n > MaxPairs || uint64(n)*8 > uint64(len(b)-4) {
		return dst, ErrPairsMalformed
	}
	sizes := b[4 : 4+8*n]
	data := b[4+8*n:]
	start := len(dst)
	pairs := slices.Grow(dst, int(n))[:start+int(n)]
	for i := range int(n) {
		kl := uint64(binary.LittleEndian.Uint32(sizes[8*i:]))
		vl := uint64(binary.LittleEndian.Uint32(sizes[8*i+4:]))
		if kl+vl+2 > uint64(len(data)) || data[kl] != 0 || data[kl+1+vl] != 0 {
			return dst, ErrPairsMalformed
		}
		k, v := data[:kl], data[kl+1:kl+1+vl]
		if alias {
			pairs[start+i] = [2]string{unsafe.String(unsafe.SliceData(k), len(k)), unsafe.String(unsafe.SliceData(v), len(v))}
		} else {
			pairs[start+i] = [2]string{string(k), string(v)}
		}
		data = data[kl+vl+2:]
	}
	if len(data) != 0 {
		return dst, ErrPairsMalformed
	}
	return pairs, nil
}
