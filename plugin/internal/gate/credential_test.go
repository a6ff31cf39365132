package gate

import (
	"errors"
	"testing"
)

// TestCredentialReadsOnlyItsOwnScheme: "Bearerx abc" is another scheme and
// holds no token for "Bearer "; a prefix without a trailing space is matched
// as a plain prefix; the scheme is case-insensitive; the right scheme with
// nothing usable after it is a malformed request.
func TestCredentialReadsOnlyItsOwnScheme(t *testing.T) {
	t.Parallel()
	bearer := source{kind: fromHeader, name: "authorization", prefix: "Bearer "}
	bare := source{kind: fromHeader, name: "x-api-key", prefix: "Key-"}
	raw := source{kind: fromHeader, name: "x-token"}
	for _, tc := range []struct {
		name  string
		src   source
		value string
		want  string
		err   error
	}{
		{"a bearer token", bearer, "Bearer abc", "abc", nil},
		{"the scheme in another case", bearer, "bEARER abc", "abc", nil},
		{"spaces around the token are dropped", bearer, "Bearer   abc  ", "abc", nil},
		{"a longer scheme is another scheme", bearer, "Bearerx abc", "", nil},
		{"another scheme", bearer, "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "", nil},
		{"a value shorter than the scheme", bearer, "Bear", "", nil},
		{"the scheme alone is malformed", bearer, "Bearer", "", ErrRequestMalformed},
		{"the scheme and spaces are malformed", bearer, "Bearer   ", "", ErrRequestMalformed},
		{"a control byte in the token is malformed", bearer, "Bearer a\x01b", "", ErrRequestMalformed},
		{"a prefix without a space is a plain prefix", bare, "Key-abc", "abc", nil},
		{"a prefix without a space in another case", bare, "kEY-abc", "abc", nil},
		{"no prefix takes the whole value", raw, "abc", "abc", nil},
		{"no prefix and an empty value is malformed", raw, "", "", ErrRequestMalformed},
		{"no prefix and a DEL is malformed", raw, "a\x7f", "", ErrRequestMalformed},
		{"no prefix and a tilde is a token", raw, "a~", "a~", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.src.credential(tc.value)
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("credential(%q) = %q, %v; want %q, %v", tc.value, got, err, tc.want, tc.err)
			}
		})
	}
}
