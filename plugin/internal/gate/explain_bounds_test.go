package gate

import (
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

// TestExplainNamesTheSourceAndTheOutcomeOfTheCredential runs Explain on each
// kind of token source and on each outcome of checking a credential, and
// checks the two steps that say where the credential was found and what
// came of it.
func TestExplainNamesTheSourceAndTheOutcomeOfTheCredential(t *testing.T) {
	f := fx(t)
	config := `{"providers": {
    "corp": {"issuer": "` + corpURL + `", "audiences": ["` + aud + `"], "jwks": ` + string(f.corp.JWKS()) + `,
      "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}, {"name": "x-token"}],
      "from_params": ["access_token"], "from_cookies": ["session"]},
    "batch": {"type": "passphrase", "passphrase": "correct horse battery staple"}},
  "rules": [
    {"match": {"prefix": "/batch"}, "requires": {"providers": ["batch"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}]}`
	tok := mint(t, f.corp, nil)
	otherAud := mint(t, f.corp, issuer.Claims{"aud": "api://elsewhere"})
	tests := []struct {
		name     string
		req      *Request
		found    string // the first step
		outcome  string // the second step
		accepted bool
	}{
		{"a bearer token", get("/x", bearer(tok)...),
			`credential found in header authorization ("Bearer")`,
			`token verified by provider "corp": signature, issuer, audience, type, time`, true},
		{"a header without a prefix", get("/x", "x-token", tok),
			`credential found in header x-token`,
			`token verified by provider "corp": signature, issuer, audience, type, time`, true},
		{"a query parameter", get("/x?access_token=" + tok),
			`credential found in query parameter "access_token"`,
			`token verified by provider "corp": signature, issuer, audience, type, time`, true},
		{"a cookie", get("/x", "cookie", "session="+tok),
			`credential found in cookie "session"`,
			`token verified by provider "corp": signature, issuer, audience, type, time`, true},
		{"a passphrase", get("/batch/run", bearer("correct horse battery staple")...),
			`credential found in header authorization ("Bearer")`,
			`passphrase of provider "batch" accepted`, true},
		{"a wrong passphrase is refused without a detail", get("/batch/run", bearer("incorrect horse")...),
			`credential found in header authorization ("Bearer")`,
			`credential verified: ` + ErrPassphraseInvalid.Error(), false},
		{"a refused token says why and for which provider", get("/x", bearer(otherAud)...),
			`credential found in header authorization ("Bearer")`,
			`credential verified: ` + ErrAudienceNotAccepted.Error() + ` (provider "corp", aud "api://elsewhere")`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A gate of its own: a token verified before would come from the cache.
			tr := compile(t, config).Explain(tt.req, now())
			if tr.Decision.Allow != tt.accepted {
				t.Fatalf("allow %v, want %v: %+v", tr.Decision.Allow, tt.accepted, tr)
			}
			if len(tr.Steps) != 2 {
				t.Fatalf("steps %+v, want two", tr.Steps)
			}
			want := []Step{{Check: tt.found, OK: true}, {Check: tt.outcome, OK: tt.accepted}}
			for i, s := range tr.Steps {
				if s != want[i] {
					t.Errorf("step %d\n got %+v\nwant %+v", i, s, want[i])
				}
			}
		})
	}
}

// TestTraceGroupHoldsWhenItsLastStepDoes drives the trace's group steps
// directly, including a group that is the very first step and groups inside
// groups.
func TestTraceGroupHoldsWhenItsLastStepDoes(t *testing.T) {
	type op struct {
		kind string // "enter", "check", "leave"
		what string
		ok   bool
	}
	tests := []struct {
		name string
		ops  []op
		want []Step
	}{
		{"a group that is the first step and holds",
			[]op{{"enter", "all_of[0]", false}, {"check", "a", true}, {"leave", "", false}},
			[]Step{{0, "all_of[0]", true, true}, {1, "a", true, false}}},
		{"a group that is the first step and fails at its last check",
			[]op{{"enter", "all_of[0]", false}, {"check", "a", true}, {"check", "b", false}, {"leave", "", false}},
			[]Step{{0, "all_of[0]", false, true}, {1, "a", true, false}, {1, "b", false, false}}},
		{"a group after a check",
			[]op{{"check", "a", true}, {"enter", "any_of[1]", false}, {"check", "b", true}, {"leave", "", false}},
			[]Step{{0, "a", true, false}, {0, "any_of[1]", true, true}, {1, "b", true, false}}},
		{"nested groups take the outcome of their own last step",
			[]op{{"enter", "all_of[0]", false}, {"enter", "any_of[0]", false}, {"check", "a", false}, {"leave", "", false},
				{"enter", "any_of[1]", false}, {"check", "b", true}, {"leave", "", false}, {"leave", "", false}},
			[]Step{{0, "all_of[0]", true, true}, {1, "any_of[0]", false, true}, {2, "a", false, false},
				{1, "any_of[1]", true, true}, {2, "b", true, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &Trace{}
			for _, o := range tt.ops {
				switch o.kind {
				case "enter":
					tr.enter(o.what)
				case "check":
					tr.check(o.what, o.ok)
				case "leave":
					tr.leave()
				}
			}
			if len(tr.Steps) != len(tt.want) {
				t.Fatalf("steps %+v, want %+v", tr.Steps, tt.want)
			}
			for i, s := range tr.Steps {
				if s != tt.want[i] {
					t.Errorf("step %d\n got %+v\nwant %+v", i, s, tt.want[i])
				}
			}
		})
	}
}

// TestExplainSaysWhichRuleMatched: the index and match object of the rule
// that matched, or a note that there are no rules at all.
func TestExplainSaysWhichRuleMatched(t *testing.T) {
	f := fx(t)
	provider := `"providers": {"corp": {"issuer": "` + corpURL + `", "audiences": ["` + aud + `"], "jwks": ` + string(f.corp.JWKS()) + `}}`
	tok := mint(t, f.corp, nil)
	tests := []struct {
		name, rules, path string
		rule              int
		match             string
	}{
		{"no rules", ``, "/x", -1, "(no rules: any provider's valid token)"},
		{"the first rule", `, "rules": [{"match": {"prefix": "/a"}}, {"match": {"prefix": "/"}, "requires": {}}]`, "/a/b", 0, `{"prefix":"/a"}`},
		{"a later rule", `, "rules": [{"match": {"prefix": "/a"}}, {"match": {"prefix": "/"}, "requires": {}}]`, "/b", 1, `{"prefix":"/"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := compile(t, `{`+provider+tt.rules+`}`).Explain(get(tt.path, bearer(tok)...), now())
			if !tr.Decision.Allow || tr.Rule != tt.rule || tr.Match != tt.match {
				t.Fatalf("allow %v, rule %d, match %q; want rule %d, match %q", tr.Decision.Allow, tr.Rule, tr.Match, tt.rule, tt.match)
			}
		})
	}
}
