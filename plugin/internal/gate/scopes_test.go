package gate

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestGrantedScopesNeedsEveryScopeAsAWholeWord: a scope is granted only by
// an equal word of the "scope" string or an equal string element of a
// "scope" or "scp" array; other elements, prefixes and non-strings grant
// nothing.
func TestGrantedScopesNeedsEveryScopeAsAWholeWord(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		claims string
		want   []string
		ok     bool
	}{
		{"a word of the scope string grants it", `{"scope":"read score"}`, []string{"score"}, true},
		{"a prefix of a word grants nothing", `{"scope":"scores"}`, []string{"score"}, false},
		{"an array of other scopes grants nothing", `{"scp":["read","write"]}`, []string{"score"}, false},
		{"an array of one other scope grants nothing", `{"scope":["read"]}`, []string{"score"}, false},
		{"an element of a scp array grants it", `{"scp":["read","score","write"]}`, []string{"score"}, true},
		{"the last element of an array grants it", `{"scp":["read","score"]}`, []string{"score"}, true},
		{"a number in an array grants nothing", `{"scp":[1]}`, []string{"1"}, false},
		{"an empty array grants nothing", `{"scp":[]}`, []string{"score"}, false},
		{"an object grants nothing", `{"scp":{"score":true}}`, []string{"score"}, false},
		{"every wanted scope must be granted", `{"scope":"score"}`, []string{"score", "admin"}, false},
		{"scopes may come from scope and scp together", `{"scope":"score","scp":["admin"]}`, []string{"score", "admin"}, true},
		{"nothing wanted is always granted", `{}`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := grantedScopes(gjson.Parse(tc.claims), tc.want); got != tc.ok {
				t.Fatalf("grantedScopes(%s, %q) = %v, want %v", tc.claims, tc.want, got, tc.ok)
			}
		})
	}
}
