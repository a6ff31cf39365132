package gate

import (
	"errors"
	"testing"
)

// TestLookupSeesEveryPairWhateverTheSeparators: a credential in the query or
// a cookie is found after empty pairs and leading separators, and a second
// one there is a repeat; the gate must never verify one credential while a
// back-end reads another.
func TestLookupSeesEveryPairWhateverTheSeparators(t *testing.T) {
	t.Parallel()
	param := source{kind: fromParam, name: "access_token"}
	cookie := source{kind: fromCookie, name: "session"}
	for _, tc := range []struct {
		name    string
		src     source
		query   string
		headers [][2]string
		want    string
		err     error
	}{
		{"a parameter after a leading &", param, "&access_token=T", nil, "T", nil},
		{"a parameter after a leading ;", param, ";access_token=T", nil, "T", nil},
		{"a parameter after an empty pair", param, "a=1&&access_token=T", nil, "T", nil},
		{"a repeat after an empty pair", param, "access_token=A&&access_token=B", nil, "", ErrTokenMultiple},
		{"a repeat after a ;", param, "access_token=A;access_token=B", nil, "", ErrTokenMultiple},
		{"a repeat under a percent-encoded name", param, "access_token=A&access%5Ftoken=B", nil, "", ErrTokenMultiple},
		{"an empty parameter is malformed", param, "access_token=", nil, "", ErrRequestMalformed},
		{"a parameter that does not decode is malformed", param, "access_token=%zz", nil, "", ErrRequestMalformed},
		{"a cookie after a leading ;", cookie, "", [][2]string{{"cookie", "; session=T"}}, "T", nil},
		{"a cookie after an empty pair", cookie, "", [][2]string{{"cookie", "a=1;;session=T"}}, "T", nil},
		{"a repeated cookie after a ,", cookie, "", [][2]string{{"cookie", "session=A,session=B"}}, "", ErrTokenMultiple},
		{"a repeated cookie in a second header", cookie, "", [][2]string{{"cookie", "session=A"}, {"Cookie", "session=B"}}, "", ErrTokenMultiple},
		{"an empty cookie is malformed", cookie, "", [][2]string{{"cookie", "session="}}, "", ErrRequestMalformed},
		{"no cookie holds no credential", cookie, "", [][2]string{{"cookie", "other=1"}}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &request{query: tc.query, headers: tc.headers}
			got, err := tc.src.lookup(req)
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("lookup = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}
