package jwksfetch

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/jwksfetch/internal/keyset"
)

// newJWK returns a fresh public JWK (as a JSON object) for alg and kid.
func newJWK(t testing.TB, alg issuer.Algorithm, kid string) string {
	t.Helper()
	k, err := issuer.NewKey(alg, kid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(k.JWK())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// withMember adds a member to a JWK object.
func withMember(jwk, name, value string) string {
	return strings.TrimSuffix(jwk, "}") + `,"` + name + `":"` + value + `"}`
}

func set(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }

func TestUsableKeys(t *testing.T) {
	t.Parallel()
	ec := newJWK(t, issuer.ES256, "ec")
	rsa := newJWK(t, issuer.RS256, "rsa")
	tests := []struct {
		name     string
		in       string
		kids     []string
		warnings []string
		err      error
	}{
		{name: "usable keys are kept", in: set(ec, rsa), kids: []string{"ec", "rsa"}},
		{name: "a private member is stripped and the key kept", in: set(withMember(ec, "d", "c2VjcmV0")), kids: []string{"ec"}, warnings: []string{`keys[0] (kid "ec"): removed non-public members [d]`}},
		{name: "an unusable key is dropped and the rest kept", in: set(`{"kty":"EC","kid":"bad","crv":"P-256","x":"a","y":"b"}`, ec), kids: []string{"ec"}, warnings: []string{`keys[0] (kid "bad")`}},
		{name: "a symmetric key is dropped", in: set(`{"kty":"oct","kid":"h","k":"c2VjcmV0"}`, rsa), kids: []string{"rsa"}, warnings: []string{"keys[0]", "keys[0]"}},
		{name: "a set of only unusable keys is refused", in: set(`{"kty":"EC","kid":"bad"}`), err: errNoUsableKeys},
		{name: "an empty set is a set", in: `{"keys":[]}`},
		{name: "garbage is refused", in: `<html>`, err: keyset.ErrNotKeySet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, kids, warns, err := usableKeys([]byte(tt.in), 10)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(kids, ",") != strings.Join(tt.kids, ",") {
				t.Fatalf("kids = %v, want %v", kids, tt.kids)
			}
			if len(warns) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d like %q", warns, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.HasPrefix(warns[i], w) {
					t.Fatalf("warning %d = %q, want prefix %q", i, warns[i], w)
				}
			}
			if strings.Contains(string(out), "c2VjcmV0") || strings.Contains(strings.Join(warns, " "), "c2VjcmV0") {
				t.Fatalf("secret leaked: %s %q", out, warns)
			}
		})
	}
}
