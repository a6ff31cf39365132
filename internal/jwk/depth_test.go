package jwk_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/jwk"
)

func TestTooDeep(t *testing.T) {
	tests := []struct {
		name string
		json string
		max  int
		deep bool
	}{
		{"a flat object is not deep", `{"a":1}`, 1, false},
		{"nesting at the limit is allowed", `{"a":[{"b":1}]}`, 3, false},
		{"nesting past the limit is deep", `{"a":[{"b":[]}]}`, 3, true},
		{"brackets inside strings do not count", `{"a":"[[[[{{{{"}`, 1, false},
		{"an escaped quote does not end the string", `{"a":"\"[[[["}`, 1, false},
		{"an escaped backslash ends before the quote", `{"a":"\\","b":[[]]}`, 2, true},
		{"closing brackets bring the depth back", `[[]] [[]] [[]]`, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jwk.TooDeep([]byte(tt.json), tt.max); got != tt.deep {
				t.Fatalf("TooDeep(%s, %d) = %v, want %v", tt.json, tt.max, got, tt.deep)
			}
		})
	}
}

// TestDeeplyNestedSetsAreRefused is the regression test for a stack
// exhaustion: gjson's validator recurses once per level, and inside Envoy's
// V8 a few thousand levels trap the VM.
func TestDeeplyNestedSetsAreRefused(t *testing.T) {
	deep := `{"keys":[],"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`
	if _, _, err := jwk.Parse([]byte(deep)); !errors.Is(err, jwk.ErrNotASet) {
		t.Fatalf("err = %v, want ErrNotASet", err)
	}
	ok := `{"keys":[],"x":` + strings.Repeat("[", jwk.MaxDepth-1) + strings.Repeat("]", jwk.MaxDepth-1) + `}`
	if _, _, err := jwk.Parse([]byte(ok)); err != nil {
		t.Fatalf("a set nested %d levels: %v", jwk.MaxDepth, err)
	}
}

// TestSetsMustBeUTF8: a set that is not UTF-8 is not JSON (RFC 8259 §8.1).
// gjson read a kid of "\x80" byte for byte where encoding/json reads U+FFFD,
// a parser differential FuzzJWKDifferential found.
func TestSetsMustBeUTF8(t *testing.T) {
	if _, _, err := jwk.Parse([]byte("{\"keys\":[{\"kty\":\"OKP\",\"kid\":\"\x80\",\"crv\":\"Ed25519\",\"x\":\"AA\"}]}")); !errors.Is(err, jwk.ErrNotASet) {
		t.Fatalf("err = %v, want ErrNotASet", err)
	}
}
