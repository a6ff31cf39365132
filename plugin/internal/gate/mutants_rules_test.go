package gate

import "testing"

// TestRuleHeaderConditionsAreRefusedByName: each malformed match.headers
// entry is refused with the whole message, naming the entry by its index.
// Before this test no test reached the messages for a headers value that is
// not an array, a header without a name and "present": false.
func TestRuleHeaderConditionsAreRefusedByName(t *testing.T) {
	rule := func(headers string) string {
		return `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/","headers":` + headers + `}}]}`
	}
	const one = `needs exactly one of "exact", "prefix" or "present"`
	tests := []struct {
		name, headers, err string // the whole error; "" for accepted
	}{
		{"an object, not an array", `{"name":"x","present":true}`,
			`rules[0].match.headers: must be an array of {"name", "exact" | "prefix" | "present"}`},
		{"a header without a name", `[{"exact":"v"}]`, `rules[0].match.headers[0].name: is required`},
		{"an empty name", `[{"name":"","exact":"v"}]`, `rules[0].match.headers[0].name: is required`},
		{"present false", `[{"name":"x","present":false}]`,
			`rules[0].match.headers[0].present: must be true (a rule cannot match on an absent header)`},
		{"the second entry is named by its index", `[{"name":"x","present":true},{"name":"y"}]`, `rules[0].match.headers[1]: ` + one},
		{"two conditions", `[{"name":"x","exact":"a","prefix":"a"}]`, `rules[0].match.headers[0]: ` + one},
		{"an unknown member", `[{"name":"x","exact":"a","regex":"a"}]`, `rules[0].match.headers[0].regex: unknown field (known: name, exact, prefix, present)`},
		{"each condition alone", `[{"name":"x","exact":"a"},{"name":"y","prefix":"b"},{"name":"z","present":true}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compileErr(rule(tt.headers)); got != tt.err {
				t.Fatalf("Compile error %q, want %q", got, tt.err)
			}
		})
	}
}
