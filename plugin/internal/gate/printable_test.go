package gate

import (
	"strings"
	"testing"
)

// TestPrintable holds the word-at-a-time printable to the byte loop it
// replaces: every byte value, at every position of a word and in the tail.
func TestPrintable(t *testing.T) {
	naive := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c > 0x7e {
				return false
			}
		}
		return true
	}
	base := strings.Repeat("eyJhbGciOi", 3) // 30 bytes: three words and a tail
	for c := 0; c < 256; c++ {
		for pos := 0; pos < len(base); pos++ {
			s := base[:pos] + string([]byte{byte(c)}) + base[pos+1:]
			if got, want := printable(s), naive(s); got != want {
				t.Fatalf("printable(byte %#x at %d) = %v, want %v", c, pos, got, want)
			}
		}
	}
	for _, s := range []string{"", "a", "\x7f", "\x1f", strings.Repeat("~", 64), strings.Repeat(" ", 64)} {
		if got, want := printable(s), naive(s); got != want {
			t.Errorf("printable(%q) = %v, want %v", s, got, want)
		}
	}
}
