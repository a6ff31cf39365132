package refreshapi_test

import (
	"testing"

	"github.com/tokengate/tokengate/internal/refreshapi"
)

// TestTargetEncodesExactlyTheReservedCharacters pins the bytes of the query:
// the unreserved characters of RFC 3986 (the ends of every range included)
// go out as they are, and their neighbours in ASCII are percent-encoded.
func TestTargetEncodesExactlyTheReservedCharacters(t *testing.T) {
	tests := []struct {
		name, kid, want string
	}{
		{"the ends of the letter and digit ranges are kept", "AZaz09", "AZaz09"},
		{"every unreserved punctuation mark is kept", "-._~", "-._~"},
		{"the neighbours of A-Z are encoded", "@[", "%40%5B"},
		{"the neighbours of a-z are encoded", "`{", "%60%7B"},
		{"the neighbours of 0-9 are encoded", "/:", "%2F%3A"},
		{"octets above ASCII are encoded in upper-case hex", "\xe9\xff", "%E9%FF"},
		{"query delimiters are encoded", "&=?#+ %", "%26%3D%3F%23%2B%20%25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := "/r?provider=" + tt.want + "&kid=" + tt.want
			if got := refreshapi.Target("/r", tt.kid, tt.kid); got != want {
				t.Errorf("Target(%q) = %q, want %q", tt.kid, got, want)
			}
		})
	}
}

// TestParseDecodesEveryHexDigit: every hex digit, in either case, including
// the ends of each range, decodes; the characters next to them are refused.
func TestParseDecodesEveryHexDigit(t *testing.T) {
	tests := []struct {
		name, value, want string
		ok                bool
	}{
		{"zero as the high digit", "%09", "\t", true},
		{"zero as the low digit", "%30", "0", true},
		{"nine", "%39%99", "9\x99", true},
		{"lower-case a and f", "%af%fa", "\xaf\xfa", true},
		{"upper-case A and F", "%AF%FA", "\xaf\xfa", true},
		{"the character before 0 is refused", "%/0", "", false},
		{"the character after 9 is refused", "%:0", "", false},
		{"the character after f is refused", "%g0", "", false},
		{"the character after F is refused", "%0G", "", false},
		{"the character before a is refused", "%`0", "", false},
		{"the character before A is refused", "%@0", "", false},
		{"a percent sign with one digit at the end is refused", "x%4", "", false},
		{"a percent sign at the end is refused", "x%", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := refreshapi.Parse("provider=" + tt.value)
			if tt.ok {
				if err != nil || p != tt.want {
					t.Errorf("Parse(provider=%s) = %q, %v; want %q", tt.value, p, err, tt.want)
				}
			} else if err == nil {
				t.Errorf("Parse(provider=%s) = %q, want an error", tt.value, p)
			}
		})
	}
}
