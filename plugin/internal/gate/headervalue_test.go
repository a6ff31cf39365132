package gate

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestHeaderValueForwardsPrintableClaimsOnly: a claim goes upstream as a
// header when every byte is printable; spaces and tildes are, control bytes
// and DEL are not. Strings go as they are, arrays joined by commas, the rest
// as compact JSON.
func TestHeaderValueForwardsPrintableClaimsOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, claim, want string
		ok                bool
	}{
		{"a string with a space", `"Ada Lovelace"`, "Ada Lovelace", true},
		{"a string with a tilde", `"a~b"`, "a~b", true},
		{"a string with a unit separator", `"a\u001fb"`, "", false},
		{"a string with a newline", `"a\nb"`, "", false},
		{"a string with DEL", `"a\u007fb"`, "", false},
		{"an array of strings and numbers", `["a", 1, "b c"]`, "a,1,b c", true},
		{"an object as compact JSON", `{"a": [1, 2]}`, `{"a":[1,2]}`, true},
		{"a number", `42`, "42", true},
		{"null is not forwarded", `null`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := headerValue(gjson.Get(`{"c":`+tc.claim+`}`, "c"))
			if got != tc.want || ok != tc.ok {
				t.Fatalf("headerValue(%s) = %q, %v; want %q, %v", tc.claim, got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := headerValue(gjson.Get(`{}`, "c")); ok {
		t.Fatal("a missing claim is forwarded")
	}
}
