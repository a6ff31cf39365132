package gate

import "testing"

// TestCompactDropsOnlyWhitespaceOutsideStrings: claim rules compare arrays
// and objects by their compact text, so whitespace between tokens must go
// and whitespace inside strings, also after an escaped quote, must stay.
func TestCompactDropsOnlyWhitespaceOutsideStrings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"whitespace between tokens is dropped", "[ \"a\" ,\t\"b\"\n,\r1 ]", `["a","b",1]`},
		{"whitespace after a string is dropped", `{"a": "x", "b": 1}`, `{"a":"x","b":1}`},
		{"whitespace inside a string is kept", `[ "a b" ]`, `["a b"]`},
		{"an escaped quote does not end the string", `[ "a\" b" , "c" ]`, `["a\" b","c"]`},
		{"an escaped backslash before the closing quote ends the string", `[ "a\\" , "b" ]`, `["a\\","b"]`},
		{"a one-character string is kept", `[ "x" ]`, `["x"]`},
		{"a backslash at the very end is copied, not read past", `[ "a\`, `["a\`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := compact(tc.in); got != tc.want {
				t.Fatalf("compact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
