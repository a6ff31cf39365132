package gate

import (
	"strings"
	"testing"
)

// TestLintFlagsOnlyRulesThatAreReallyTakenFirst: a rule with an exact path,
// a template or a regex catches only what it matches, a rule on a host
// shadows later rules on the same host only, an earlier regex shadows
// nothing (its reach is not worked out), and a later regex is judged by the
// whole segments of its literal head.
func TestLintFlagsOnlyRulesThatAreReallyTakenFirst(t *testing.T) {
	good := `"providers":{"corp":{"issuer":"x","audiences":["a"],"token_types":["at+jwt"],"max_lifetime_seconds":3600}}`
	tests := []struct {
		name, rules string
		want        []string
	}{
		{"an exact path takes nothing else", `{"match":{"path":"/x"}},{"match":{"prefix":"/y"}}`, nil},
		{"an exact path shadows nothing even below it", `{"match":{"path":"/x"}},{"match":{"prefix":"/x/y"}}`, nil},
		{"a template takes nothing else", `{"match":{"path_template":"/m/{id}"}},{"match":{"prefix":"/y"}}`, nil},
		{"a regex takes nothing else", `{"match":{"regex":"/r/.*"}},{"match":{"prefix":"/y"}}`, nil},
		{"a rule on a host shadows a narrower rule on that host", `{"match":{"prefix":"/","host":"a.example.com"}},{"match":{"prefix":"/x","host":"a.example.com"}}`,
			[]string{`rules[1]: shadowed by rules[0] {"prefix":"/","host":"a.example.com"}`}},
		{"a rule on a host does not shadow one on another host", `{"match":{"prefix":"/","host":"a.example.com"}},{"match":{"prefix":"/x","host":"b.example.com"}}`, nil},
		{"a host-only rule shadows the same host's rules", `{"match":{"host":"a.example.com"}},{"match":{"path":"/x","host":"a.example.com"}}`,
			[]string{`rules[1]: shadowed by rules[0] {"host":"a.example.com"}`}},
		{"a regex with a literal head is shadowed by a prefix of it", `{"match":{"prefix":"/v1"}},{"match":{"regex":"/v1/(a|b)"}}`,
			[]string{`rules[1]: shadowed by rules[0]`}},
		{"a regex whose head is only the root is not", `{"match":{"prefix":"/v"}},{"match":{"regex":"/v[0-9]/x"}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := Lint([]byte(`{` + good + `,"rules":[` + tt.rules + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if len(findings) != len(tt.want) {
				t.Fatalf("findings %q, want %q", findings, tt.want)
			}
			for i, f := range findings {
				if !strings.HasPrefix(f.String(), tt.want[i]) {
					t.Errorf("finding %q, want it to start with %q", f, tt.want[i])
				}
			}
		})
	}
}
