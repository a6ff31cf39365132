package jwk_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/jsonstrict"
	"github.com/tokengate/tokengate/internal/jwk"
)

// TestDuplicateMembersAreRefused is the regression test for a parser
// differential: gjson reads the first of two members with the same name,
// encoding/json (and so jwksfetch and most other JOSE libraries) the last, so
// {"x": A, "x": B} was key A here and key B elsewhere. RFC 7517 §4 asks to
// reject such a key; a document that holds one anywhere, at any depth, is not
// used at all (internal/jsonstrict), so every reader sees the same keys.
func TestDuplicateMembersAreRefused(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	pubA, _, _ := ed25519.GenerateKey(rand.Reader)
	pubB, _, _ := ed25519.GenerateKey(rand.Reader)
	a, b := enc(pubA), enc(pubB)
	good := `{"kty":"OKP","crv":"Ed25519","kid":"good","x":"` + a + `"}`
	tests := []struct {
		name    string
		set     string
		keys    int
		warning string
		err     error
		msg     string
	}{
		{name: "a key with a member twice refuses the set", set: `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + a + `","x":"` + b + `"},` + good + `]}`,
			err: jsonstrict.ErrDuplicate, msg: `member "keys[0].x" appears twice`},
		{name: "an escaped duplicate is a duplicate", set: `{"keys":[` + good + `,{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + a + `","\u0078":"` + b + `"}]}`,
			err: jsonstrict.ErrDuplicate, msg: `member "keys[1].x" appears twice`},
		{name: "a duplicate kid is a duplicate", set: `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","kid":"other","x":"` + a + `"}]}`,
			err: jsonstrict.ErrDuplicate, msg: `"keys[0].kid"`},
		{name: "an empty member name twice is a duplicate", set: `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","":1,"x":"` + a + `","":2}]}`,
			err: jsonstrict.ErrDuplicate},
		{name: "a nested duplicate is a duplicate", set: `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"` + a + `","ext":{"y":1,"y":2}}]}`,
			err: jsonstrict.ErrDuplicate, msg: `"keys[0].ext.y"`},
		{name: "nesting beyond the limit", set: `{"keys":[],"x":` + strings.Repeat("[", jsonstrict.MaxDepth) + strings.Repeat("]", jsonstrict.MaxDepth) + `}`,
			err: jsonstrict.ErrDepth},
		{name: "nesting at the limit", set: `{"keys":[],"x":` + strings.Repeat("[", jsonstrict.MaxDepth-1) + strings.Repeat("]", jsonstrict.MaxDepth-1) + `}`},
		{name: "a set with two keys members is not a set", set: `{"keys":[` + good + `],"keys":[]}`, err: jwk.ErrNotASet},
		{name: "other duplicates before keys do not hide it", set: `{"x":1,"x":2,"keys":[` + good + `],"keys":[]}`, err: jwk.ErrNotASet},
		{name: "the same name in different keys is fine", set: `{"keys":[` + good + `,` + strings.Replace(good, a, b, 1) + `]}`, keys: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, warnings, err := jwk.Parse([]byte(tt.set))
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, jwk.ErrNotASet) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want %v and %v with %q", err, jwk.ErrNotASet, tt.err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != tt.keys {
				t.Fatalf("%d keys, want %d (warnings %q)", len(set.Keys), tt.keys, warnings)
			}
			if tt.warning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tt.warning)) {
				t.Fatalf("warnings = %q, want one with %q", warnings, tt.warning)
			}
		})
	}
}
