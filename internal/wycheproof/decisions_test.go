package wycheproof

import (
	"strings"
	"testing"
)

func TestWant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		test    Test
		want    bool
		wantErr bool
	}{
		{"a valid vector must be accepted", Test{Result: Valid}, true, false},
		{"an invalid vector must be refused", Test{Result: Invalid, Flags: []string{"MissingNull"}}, false, false},
		{"an acceptable MissingNull vector is refused", Test{Result: Acceptable, Flags: []string{"MissingNull"}}, false, false},
		{"an acceptable vector with an undecided flag is an error", Test{Result: Acceptable, Flags: []string{"WeakHash"}}, false, true},
		{"an acceptable vector without flags is an error", Test{Result: Acceptable}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Want(tc.test)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	tl := Tally{}
	tl.Add("ES256", Test{Result: Valid}, true)
	tl.Add("ES256", Test{Result: Valid}, false)
	tl.Add("ES256", Test{Result: Invalid}, false)
	tl.Add("ES256", Test{Result: Invalid}, true)
	tl.Add("ES256", Test{Result: Acceptable}, true)
	tl.Skip("ES256")
	tl.Add("EdDSA", Test{Result: Invalid}, false)
	want := "| ES256 | 1/2 | 1/2 | 1/1 | 1 |\n| EdDSA | 0/0 | 1/1 | 0/0 | 0 |\n"
	if got := tl.String(); !strings.HasSuffix(got, want) {
		t.Fatalf("got\n%s\nwant it to end with\n%s", got, want)
	}
}
