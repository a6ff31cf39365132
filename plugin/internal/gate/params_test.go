package gate

import (
	"errors"
	"testing"
)

// TestSameParamNameFoldsAsBackEndsRead: a received parameter or cookie name
// matches a configured one when a back-end could read it as that name:
// percent-decoded, any case, ".", " " and "[" as "_". Nothing else folds.
func TestSameParamNameFoldsAsBackEndsRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, name string
		same      bool
	}{
		{"access_token", "access_token", true},
		{"ACCESS_TOKEN", "access_token", true},
		{"Access.Token", "access_token", true},
		{"access+token", "access_token", true},
		{"access[token", "access_token", true},
		{"access%5Ftoken", "access_token", true},
		{"access%5ftoken", "access_token", true},
		{"%41%5A", "az", true},
		{"AZ", "az", true},
		{"@[", "`_", false}, // "@" and "`" are not letters
		{"access-token", "access_token", false},
		{"access_tokens", "access_token", false},
		{"access%5", "access_token", false},
		{"access%zztoken", "access_token", false},
		{"%30", "0", true},
		{"%39", "9", true},
		{"%3A", ":", true},
		{"%2F", "/", true},
		{"%af", "\xaf", true},
		{"%AF", "\xaf", true},
		{"%g0", "\x00", false},
		{"%G0", "\x00", false},
		{"%`0", "\x00", false},
		{"%@0", "\x00", false},
	} {
		if got := sameParamName(tc.raw, tc.name); got != tc.same {
			t.Errorf("sameParamName(%q, %q) = %v, want %v", tc.raw, tc.name, got, tc.same)
		}
	}
}

// TestExtractTakesOneCredentialFromAnyNumberOfPlaces: the same credential in
// several sources is one credential (every place is marked for stripping);
// two different ones are refused; none is "".
func TestExtractTakesOneCredentialFromAnyNumberOfPlaces(t *testing.T) {
	t.Parallel()
	srcs := []source{authorizationBearer, {kind: fromParam, name: "access_token"}, {kind: fromCookie, name: "session"}}
	for _, tc := range []struct {
		name    string
		query   string
		headers [][2]string
		token   string
		held    uint64
		err     error
	}{
		{"nothing anywhere", "", nil, "", 0, nil},
		{"only the header", "", [][2]string{{"authorization", "Bearer T"}}, "T", 0b001, nil},
		{"only the cookie", "", [][2]string{{"cookie", "session=T"}}, "T", 0b100, nil},
		{"the same token in all three", "access_token=T", [][2]string{{"authorization", "Bearer T"}, {"cookie", "session=T"}}, "T", 0b111, nil},
		{"the query and the cookie differ", "access_token=A", [][2]string{{"cookie", "session=B"}}, "", 0, ErrTokenMultiple},
		{"the header and the query differ", "access_token=A", [][2]string{{"authorization", "Bearer B"}}, "", 0, ErrTokenMultiple},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, _, held, err := extract(&request{query: tc.query, headers: tc.headers}, srcs)
			if tok != tc.token || held != tc.held || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("extract = %q, held %03b, %v; want %q, held %03b, %v", tok, held, err, tc.token, tc.held, tc.err)
			}
		})
	}
}

// TestUnescapeDecodesPlusAndPercentAnywhere: "+" is a space and "%XX" an
// octet wherever they stand, the first byte included; a "%" without two hex
// digits does not decode.
func TestUnescapeDecodesPlusAndPercentAnywhere(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"plain", "plain", true},
		{"+a", " a", true},
		{"a+", "a ", true},
		{"%41b", "Ab", true},
		{"b%41", "bA", true},
		{"%2B+", "+ ", true},
		{"a%4", "", false},
		{"a%", "", false},
		{"%4g", "", false},
	} {
		got, ok := unescape(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("unescape(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
