package gate

import (
	"strings"
	"testing"
)

// TestLogValueIsPrintableASCIIOfAtMost80Bytes: a value from a token reaches
// the log as printable ASCII only (DEL and control bytes become "?"), cut to
// 80 bytes with "..." when longer.
func TestLogValueIsPrintableASCIIOfAtMost80Bytes(t *testing.T) {
	t.Parallel()
	x80 := strings.Repeat("x", 80)
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"an empty value is (none)", "", "(none)"},
		{"space and tilde are kept", ` "a~"`, ` "a~"`},
		{"control bytes become ?", "a\x00\x1f\nb", "a???b"},
		{"DEL becomes ?", "a\x7fb", "a?b"},
		{"bytes above ASCII become ?", "\xc3\xa9", "??"},
		{"80 bytes are kept whole", x80, x80},
		{"81 bytes are cut to 80 and marked", x80 + "y", x80 + "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := logValue(tc.raw); got != tc.want {
				t.Fatalf("logValue(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}
