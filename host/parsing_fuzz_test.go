package host

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/abi"
)

// FuzzGuestPairs feeds arbitrary guest buffers to the host's pairs parser
// (proxy_set_header_map_pairs, send_local_response and http_call headers).
// It must never panic, and whatever it accepts must be a faithful,
// lower-cased reading of the buffer.
func FuzzGuestPairs(f *testing.F) {
	f.Add(abi.EncodePairs([][2]string{{":path", "/"}, {"X-Key", "v"}}))
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pairs := decodePairsLikeEnvoy(b)
		strict, err := abi.DecodePairs(b)
		if err != nil {
			if pairs != nil {
				t.Fatalf("a malformed buffer gave %q instead of an empty map", pairs)
			}
			return
		}
		if len(pairs) != len(strict) {
			t.Fatalf("%d pairs, the codec read %d", len(pairs), len(strict))
		}
		for i := range pairs {
			if pairs[i][0] != strings.ToLower(strict[i][0]) || pairs[i][1] != strict[i][1] {
				t.Fatalf("pair %d is %q, the codec read %q", i, pairs[i], strict[i])
			}
		}
		if len(b) > 1 && !bytes.Equal(abi.EncodePairs(strict), b) {
			t.Fatalf("accepted a buffer that does not re-encode to itself")
		}
	})
}

// FuzzSetBufferBytes checks proxy_set_buffer_bytes against a direct
// statement of Envoy's rule, for any body, start, size and data.
func FuzzSetBufferBytes(f *testing.F) {
	f.Add([]byte("hello"), uint32(0), uint32(0), []byte("<"))
	f.Add([]byte("hello"), uint32(5), uint32(0), []byte(">"))
	f.Add([]byte("hello"), uint32(2), uint32(1), []byte("x"))
	f.Add([]byte("hello"), uint32(0), uint32(99), []byte("new"))
	f.Add([]byte{}, uint32(0xffffffff), uint32(0xffffffff), []byte{})
	f.Fuzz(func(t *testing.T, body []byte, start, size uint32, data []byte) {
		s := &Stream{id: 2, reqBody: bytes.Clone(body)}
		v := &vm{stream: s, current: 2}
		st := v.setBuffer(abi.BufferHTTPRequestBody, start, size, data)
		var want []byte
		wantSt := abi.StatusOK
		switch {
		case start == 0:
			want = append(bytes.Clone(data), body[min(int(size), len(body)):]...)
		case int(start) >= len(body):
			want = append(bytes.Clone(body), data...)
		default:
			want, wantSt = body, abi.StatusBadArgument
		}
		if st != wantSt || !bytes.Equal(s.reqBody, want) {
			t.Fatalf("set(%q, start %d, size %d, %q) = %q (%d), want %q (%d)", body, start, size, data, s.reqBody, st, want, wantSt)
		}
	})
}

// FuzzPropertyPath reads arbitrary property paths on a stream; the host
// must answer without panicking, and never find a value for a path that
// names no attribute.
func FuzzPropertyPath(f *testing.F) {
	f.Add("request\x00headers\x00x-one")
	f.Add("response\x00code")
	f.Add("\x00\x00")
	f.Add("plugin_name\x00")
	f.Fuzz(func(t *testing.T, path string) {
		s := &Stream{id: 2, props: map[string][]byte{}}
		s.hdr[abi.MapHTTPRequestHeaders] = [][2]string{{":path", "/a?b"}, {"x-one", "1"}}
		s.have[abi.MapHTTPRequestHeaders] = true
		s.hdr[abi.MapHTTPResponseHeaders] = [][2]string{{":status", "x"}}
		s.have[abi.MapHTTPResponseHeaders] = true
		v := &vm{stream: s, current: 2, props: map[string][]byte{}, p: &Plugin{cfg: defaultConfig()}}
		val, found := v.property(path)
		if !found && val != nil {
			t.Fatalf("%q: a value without found", path)
		}
	})
}
