package gate

import (
	"testing"

	"github.com/tidwall/gjson"
)

// TestClaimRuleMatchesOnlyTheConfiguredValues: "equals" needs the claim to
// equal one configured value; "has" needs every configured value in the claim,
// an array or a space-delimited string; a missing claim satisfies nothing.
func TestClaimRuleMatchesOnlyTheConfiguredValues(t *testing.T) {
	t.Parallel()
	values := func(js ...string) []gjson.Result {
		out := make([]gjson.Result, len(js))
		for i, j := range js {
			out[i] = gjson.Parse(j)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		rule   claimRule
		claims string
		ok     bool
	}{
		{"equals: an equal string", claimRule{path: "tier", equals: values(`"gold"`, `"silver"`)}, `{"tier":"silver"}`, true},
		{"equals: another string", claimRule{path: "tier", equals: values(`"gold"`)}, `{"tier":"bronze"}`, false},
		{"equals: an equal number written differently", claimRule{path: "n", equals: values(`1`)}, `{"n":1.0}`, true},
		{"equals: a number is not its string", claimRule{path: "n", equals: values(`1`)}, `{"n":"1"}`, false},
		{"equals: an equal object with other spacing", claimRule{path: "o", equals: values(`{"a": [1, "x y"]}`)}, `{"o":{"a":[1,"x y"]}}`, true},
		{"equals: an object with another string", claimRule{path: "o", equals: values(`{"a":"x y"}`)}, `{"o":{"a":"xy"}}`, false},
		{"equals: true is not false", claimRule{path: "b", equals: values(`true`)}, `{"b":false}`, false},
		{"equals: a missing claim", claimRule{path: "tier", equals: values(`"gold"`)}, `{}`, false},
		{"has: a word of a space-delimited string", claimRule{path: "roles", has: values(`"b"`)}, `{"roles":"a b c"}`, true},
		{"has: a prefix of a word is not the word", claimRule{path: "roles", has: values(`"b"`)}, `{"roles":"a bc"}`, false},
		{"has: a number is not looked for in a string", claimRule{path: "roles", has: values(`1`)}, `{"roles":"1"}`, false},
		{"has: an element of an array", claimRule{path: "roles", has: values(`"b"`)}, `{"roles":["a","b","c"]}`, true},
		{"has: a number element of an array", claimRule{path: "ids", has: values(`2`)}, `{"ids":[1,2]}`, true},
		{"has: every value is needed", claimRule{path: "roles", has: values(`"a"`, `"z"`)}, `{"roles":["a","b"]}`, false},
		{"has: an array without the value", claimRule{path: "roles", has: values(`"z"`)}, `{"roles":["a","b"]}`, false},
		{"has: a missing claim", claimRule{path: "roles", has: values(`"a"`)}, `{}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rule.satisfied(gjson.Parse(tc.claims)); got != tc.ok {
				t.Fatalf("satisfied(%s) = %v, want %v", tc.claims, got, tc.ok)
			}
		})
	}
}
