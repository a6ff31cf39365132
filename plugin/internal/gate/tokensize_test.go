package gate

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// TestParseJWSTakesTokensOfUpTo16KiB: a token of exactly maxTokenBytes is
// parsed, one byte more is refused before anything is decoded.
func TestParseJWSTakesTokensOfUpTo16KiB(t *testing.T) {
	t.Parallel()
	b64 := base64.RawURLEncoding.EncodeToString
	// token builds header.payload.signature of exactly n bytes: the payload
	// pads a claim, and the signature takes the 2 or 3 characters left over.
	token := func(n int) string {
		h := b64([]byte(`{"alg":"RS256"}`))
		// The payload's base64 is about n-len(h)-4 characters: start a little below.
		for pad := max(0, (n-len(h)-4)*3/4-20); pad < n; pad++ {
			p := b64([]byte(`{"pad":"` + strings.Repeat("x", pad) + `"}`))
			for _, s := range []string{"AA", "AAA"} {
				if tok := h + "." + p + "." + s; len(tok) == n {
					return tok
				}
			}
		}
		t.Fatalf("no token of %d bytes", n)
		return ""
	}
	for _, tc := range []struct {
		name string
		n    int
		want error
	}{
		{"exactly 16 KiB is parsed", maxTokenBytes, nil},
		{"one byte less is parsed", maxTokenBytes - 1, nil},
		{"one byte more is malformed", maxTokenBytes + 1, ErrTokenMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := token(tc.n)
			if _, err := parseJWS(tok); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("parseJWS(%d bytes) = %v, want %v", len(tok), err, tc.want)
			}
		})
	}
}
