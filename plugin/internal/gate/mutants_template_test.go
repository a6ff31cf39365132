package gate

import (
	"strings"
	"testing"
)

// TestRegexRepeatingAnEmptyClassMatchesOnlyWithZeroRepeats: a repetition of
// something that can never match (an empty character class) can still match
// when zero repeats are allowed, and then only then. A regex refused here
// would be a rule that cannot be configured; one accepted wrongly, a rule that
// never matches.
func TestRegexRepeatingAnEmptyClassMatchesOnlyWithZeroRepeats(t *testing.T) {
	const never = `[^\x00-\x{10FFFF}]` // a class without a single character
	tests := []struct {
		name, regex, err string // err: the whole message; "" for accepted
		matches          string
	}{
		{"zero to two repeats", `/` + never + `{0,2}x`, "", "/x"},
		{"zero or one", `/` + never + `?x`, "", "/x"},
		{"zero or more", `/` + never + `*x`, "", "/x"},
		{"exactly zero", `/` + never + `{0}x`, "", "/x"},
		{"one to two repeats", `/` + never + `{1,2}x`, "can never match anything", ""},
		{"one or more", `/` + never + `+x`, "can never match anything", ""},
		{"the class alone", `/` + never, "can never match anything", ""},
		{"in a group", `/(?:` + never + `){1}x`, "can never match anything", ""},
		{"one branch of two can match", `/(?:` + never + `|y)x`, "", "/yx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, msg := compileRegex(tt.regex)
			if msg != tt.err {
				t.Fatalf("compileRegex(%q): %q, want %q", tt.regex, msg, tt.err)
			}
			if tt.err == "" && !re.MatchString(tt.matches) {
				t.Fatalf("%q does not match %q", tt.regex, tt.matches)
			}
		})
	}
}

// TestRegexNestedTooDeeplyIsRefusedWithTheReason: the regex is read twice,
// once as configured and once anchored inside a group, one level deeper. A
// regex at the nesting limit passes the first reading and fails the second;
// it is refused with the parser's reason, neither accepted nor a panic.
func TestRegexNestedTooDeeplyIsRefusedWithTheReason(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("(", n) + "/" + strings.Repeat(")", n) }
	tests := []struct {
		name     string
		depth    int
		ok       bool
		anchored bool // refused by the second reading: the message shows the anchored form
	}{
		{"one group", 1, true, false},
		{"998 groups", 998, true, false},
		{"999 groups: too deep once anchored", 999, false, true},
		{"1000 groups: too deep as configured", 1000, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, msg := compileRegex(nest(tt.depth))
			if tt.ok {
				if msg != "" || !re.MatchString("/") {
					t.Fatalf("refused (%q), want a regex matching \"/\"", msg)
				}
				return
			}
			if re != nil || !strings.HasPrefix(msg, "not a valid RE2 regex: ") || !strings.Contains(msg, "nests too deeply") {
				t.Fatalf("compileRegex: %v, %.80q…, want nil and \"not a valid RE2 regex: …nests too deeply…\"", re, msg)
			}
			if got := strings.Contains(msg, "`^(?:"); got != tt.anchored {
				t.Fatalf("the message shows the anchored form: %v, want %v", got, tt.anchored)
			}
		})
	}
}

// TestPathTemplateCaptureNamesAreRefusedWithTheName: a capture that is not
// a name is refused with a message that quotes it, through the whole
// configuration.
func TestPathTemplateCaptureNamesAreRefusedWithTheName(t *testing.T) {
	const rule = `rules[0].match.path_template: capture `
	const why = `: a name is letters, digits and "_", not starting with a digit`
	tests := []struct {
		name, template, err string // the whole error; "" for accepted
	}{
		{"a leading digit", "/models/{9a}", rule + `"9a"` + why},
		{"a dash", "/models/{a-b}", rule + `"a-b"` + why},
		{"a rest capture with a dash", "/files/{a-b...}", rule + `"a-b"` + why},
		{"an empty rest capture", "/files/{...}", rule + `""` + why},
		{"a name", "/models/{a_9}/{b...}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := `{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"path_template":"` + tt.template + `"}}]}`
			if got := compileErr(config); got != tt.err {
				t.Fatalf("Compile error %q, want %q", got, tt.err)
			}
		})
	}
}
