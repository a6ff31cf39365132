package abi

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestPairsRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pairs [][2]string
	}{
		{name: "one pair", pairs: [][2]string{{":path", "/v1/score"}}},
		{name: "empty key and value", pairs: [][2]string{{"", ""}}},
		{name: "repeated keys keep their order", pairs: [][2]string{{"a", "1"}, {"a", "2"}, {"b", ""}}},
		{name: "binary value", pairs: [][2]string{{"x", "\xff\x00\x01"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			buf := EncodePairs(tt.pairs)
			if len(buf) != PairsSize(tt.pairs) {
				t.Fatalf("encoded %d bytes, PairsSize says %d", len(buf), PairsSize(tt.pairs))
			}
			got, err := DecodePairs(buf)
			if err != nil {
				t.Fatalf("DecodePairs: %v", err)
			}
			if !reflect.DeepEqual(got, tt.pairs) {
				t.Fatalf("round trip gave %q, want %q", got, tt.pairs)
			}
		})
	}
}

func TestPairsLayoutMatchesSpec(t *testing.T) {
	t.Parallel()
	// The specification's example, with its errata fixed: {"a":"1"} and {"bb":"22"}.
	want := []byte{
		2, 0, 0, 0,
		1, 0, 0, 0, 1, 0, 0, 0,
		2, 0, 0, 0, 2, 0, 0, 0,
		'a', 0, '1', 0,
		'b', 'b', 0, '2', '2', 0,
	}
	if got := EncodePairs([][2]string{{"a", "1"}, {"bb", "22"}}); !bytes.Equal(got, want) {
		t.Fatalf("EncodePairs = %v, want %v", got, want)
	}
}

func TestDecodePairsRejectsMalformed(t *testing.T) {
	t.Parallel()
	good := EncodePairs([][2]string{{"key", "value"}})
	tests := []struct {
		name string
		buf  []byte
	}{
		{name: "truncated count", buf: []byte{1, 0}},
		{name: "count larger than the buffer", buf: []byte{9, 0, 0, 0, 1, 0, 0, 0}},
		{name: "missing key terminator", buf: func() []byte { b := bytes.Clone(good); b[12+3] = 'x'; return b }()},
		{name: "missing value terminator", buf: good[:len(good)-1]},
		{name: "trailing bytes", buf: append(bytes.Clone(good), 0)},
		{name: "length overflows the data", buf: []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0}},
		{name: "too many pairs", buf: append([]byte{0x01, 0x04, 0, 0}, make([]byte, 8*1025)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodePairs(tt.buf); !errors.Is(err, ErrPairsMalformed) {
				t.Fatalf("DecodePairs(%v) error = %v, want ErrPairsMalformed", tt.buf, err)
			}
		})
	}
}

func TestDecodePairsEmpty(t *testing.T) {
	t.Parallel()
	for _, b := range [][]byte{nil, {0}, {0, 0, 0, 0}} {
		got, err := DecodePairs(b)
		if err != nil || len(got) != 0 {
			t.Fatalf("DecodePairs(%v) = %q, %v; want no pairs", b, got, err)
		}
	}
}

func FuzzDecodePairs(f *testing.F) {
	f.Add(EncodePairs([][2]string{{":path", "/"}, {"authorization", "Bearer x"}}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pairs, err := DecodePairs(b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to the same bytes (or to the
		// canonical empty map).
		if len(b) > 1 && !bytes.Equal(EncodePairs(pairs), b) {
			t.Fatalf("decode/encode is not the identity for %v", b)
		}
	})
}

// TestAppendPairsView proves the no-copy decoder reads what DecodePairs
// reads, appends after what dst holds, and aliases the buffer instead of
// copying it (the plugin's binding relies on both: it reuses dst and must
// clone whatever it keeps).
func TestAppendPairsView(t *testing.T) {
	buf := EncodePairs([][2]string{{":path", "/v1"}, {"authorization", "Bearer x"}})
	tests := []struct {
		name string
		dst  [][2]string
		want [][2]string
	}{
		{"into an empty slice", nil, [][2]string{{":path", "/v1"}, {"authorization", "Bearer x"}}},
		{"after what dst holds", [][2]string{{"a", "b"}}, [][2]string{{"a", "b"}, {":path", "/v1"}, {"authorization", "Bearer x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendPairsView(tt.dst, buf)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("AppendPairsView = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("the strings alias the buffer", func(t *testing.T) {
		b := bytes.Clone(buf)
		got, _ := AppendPairsView(nil, b)
		b[bytes.Index(b, []byte("/v1"))+1] = 'x'
		if got[0][1] != "/x1" {
			t.Fatalf("value after the buffer changed = %q, want /x1 (a view, not a copy)", got[0][1])
		}
	})
	t.Run("a malformed buffer leaves dst as it was", func(t *testing.T) {
		dst := [][2]string{{"a", "b"}}
		got, err := AppendPairsView(dst, buf[:len(buf)-1])
		if !errors.Is(err, ErrPairsMalformed) || len(got) != 1 {
			t.Fatalf("AppendPairsView = %q, %v; want dst unchanged and ErrPairsMalformed", got, err)
		}
	})
}
