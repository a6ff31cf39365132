package gate

import (
	"slices"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

// TestRequirementsNestFourLevelsDeep checks the nesting limit from both
// sides: any_of and all_of may nest exactly four levels, not five.
func TestRequirementsNestFourLevelsDeep(t *testing.T) {
	nest := func(group string, levels int) string {
		return strings.Repeat(`{"`+group+`":[`, levels) + `{"scopes":["a"]}` + strings.Repeat(`]}`, levels)
	}
	tests := []struct {
		name, requires string
		ok             bool
	}{
		{"any_of one level", nest("any_of", 1), true},
		{"any_of four levels", nest("any_of", 4), true},
		{"all_of four levels", nest("all_of", 4), true},
		{"any_of five levels", nest("any_of", 5), false},
		{"all_of five levels", nest("all_of", 5), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(`{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/"},"requires":` + tt.requires + `}]}`))
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "nest at most 4 levels")) {
				t.Fatalf("error %v, want the nesting limit", err)
			}
		})
	}
}

// TestClaimCheckValuesTakeTheirTypes checks which JSON types each claim
// condition takes: equals any value but an object, contains a single value
// (found in an array claim), prefix a string only.
func TestClaimCheckValuesTakeTheirTypes(t *testing.T) {
	f := fx(t)
	tests := []struct {
		name, check string
		claim       any    // the token's "c"
		allow       bool   // with err empty
		err         string // the compile error, if any
	}{
		{"equals an array", `"equals":[1,2]`, []int{1, 2}, true, ""},
		{"equals an array in another order", `"equals":[1,2]`, []int{2, 1}, false, ""},
		{"equals a number", `"equals":2`, 2, true, ""},
		{"contains a number in an array", `"contains":2`, []int{1, 2}, true, ""},
		{"contains a number that is the whole claim", `"contains":2`, 2, false, ""},
		{"contains a string in an array", `"contains":"b"`, []string{"a", "b"}, true, ""},
		{"contains an array", `"contains":[2]`, nil, false, `requires.claims[0].contains: must be a string, number, boolean or null`},
		{"contains an object", `"contains":{"a":1}`, nil, false, `requires.claims[0].contains: must be a string, number, boolean or null`},
		{"equals an object", `"equals":{"a":1}`, nil, false, `requires.claims[0].equals: must be a string, number, boolean or null`},
		{"prefix a number", `"prefix":2`, nil, false, `requires.claims[0].prefix: must be a string`},
		{"prefix an array", `"prefix":["a"]`, nil, false, `requires.claims[0].prefix: must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := authzConfig(t, `[{"match":{"prefix":"/"},"requires":{"claims":[{"claim":"c",`+tt.check+`}]}}]`)
			g, _, err := Compile([]byte(config))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := g.Decide(get("/x", bearer(mint(t, f.corp, map[string]any{"c": tt.claim}))...), now())
			if d.Allow != tt.allow {
				t.Fatalf("allow=%v (%s), want %v", d.Allow, d.Reason, tt.allow)
			}
		})
	}
}

// TestExplainTracesEveryKindOfCondition checks that a trace lists each
// condition of a requirement as it is checked, with its outcome, nested
// under the group it belongs to.
func TestExplainTracesEveryKindOfCondition(t *testing.T) {
	f := fx(t)
	g := compile(t, authzConfig(t, `[{"match": {"prefix": "/"}, "requires": {"audiences": ["api://billing"], "scopes": ["read"], "roles": ["admin"],
    "claims": [{"claim": "tier", "equals": 2}], "all_of": [{"scopes": ["write"]}], "any_of": [{"roles": ["ops"]}, {"scopes": ["read"]}]}}]`))
	all := issuer.Claims{"aud": []string{aud, "api://billing"}, "scope": "read write", "realm_access": map[string]any{"roles": []string{"admin"}}, "tier": 2}
	but := func(k string, v any) issuer.Claims {
		c := issuer.Claims{}
		for a, b := range all {
			c[a] = b
		}
		c[k] = v
		return c
	}
	head := []string{
		`ok credential found in header authorization ("Bearer")`,
		`ok token verified by provider "corp": signature, issuer, audience, type, time`,
	}
	tests := []struct {
		name   string
		claims issuer.Claims
		want   []string
	}{
		{"every condition holds", all, []string{
			`ok audience one of api://billing`,
			`ok scope "read"`,
			`ok role "admin" in realm_access.roles, resource_access.mlflow.roles`,
			`ok claim tier equals 2`,
			`ok all_of[0]`,
			` ok scope "write"`,
			`no any_of[0]`,
			` no role "ops" in realm_access.roles, resource_access.mlflow.roles`,
			`ok any_of[1]`,
			` ok scope "read"`,
		}},
		{"the audience is missing", but("aud", aud), []string{
			`no audience one of api://billing`,
		}},
		{"the nested scope is missing", but("scope", "read"), []string{
			`ok audience one of api://billing`,
			`ok scope "read"`,
			`ok role "admin" in realm_access.roles, resource_access.mlflow.roles`,
			`ok claim tier equals 2`,
			`no all_of[0]`,
			` no scope "write"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := g.Explain(get("/x", bearer(mint(t, f.corp, tt.claims))...), now())
			var steps []string
			for _, s := range tr.Steps {
				steps = append(steps, strings.Repeat(" ", s.Depth)+map[bool]string{true: "ok ", false: "no "}[s.OK]+s.Check)
			}
			want := append(append([]string{}, head...), tt.want...)
			if !slices.Equal(steps, want) {
				t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
