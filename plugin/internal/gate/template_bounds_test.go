package gate

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

// TestCaptureNamesAreLettersDigitsAndUnderscores draws the character
// classes of a capture name at each end of each range.
func TestCaptureNamesAreLettersDigitsAndUnderscores(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"z", true}, {"A", true}, {"Z", true}, {"_", true},
		{"x0", true}, {"x9", true}, {"model_2", true},
		{"0x", false}, {"9x", false}, {"", false},
		{"x`", false}, {"x{", false}, {"x@", false}, {"x[", false}, {"x/", false}, {"x:", false}, {"x-y", false},
	}
	for _, tt := range tests {
		if got := captureName(tt.name); got != tt.ok {
			t.Errorf("captureName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

// TestHostNamesAreCheckedByteByByte draws the host name's character classes
// at the ends of each range, and the shapes a host may not have.
func TestHostNamesAreCheckedByteByByte(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"a", true}, {"z", true}, {"0", true}, {"9", true}, {"a-z.0-9", true}, {"API.Example.COM", true},
		{"*.a", true}, {"[::1]", true},
		{"a_b", false}, {"a`b", false}, {"a{b", false}, {"a/b", false}, {"a:80", false}, {"a..b", false},
		{".a", false}, {"a.", false}, {"", false}, {"*.", false}, {"a.*", false},
	}
	for _, tt := range tests {
		if _, msg := compileHost(tt.host); (msg == "") != tt.ok {
			t.Errorf("compileHost(%q): %q, want ok=%v", tt.host, msg, tt.ok)
		}
	}
}

// TestHostMatchComparesTheHostPartOnly checks which part of the authority
// a host condition compares: the host without port and one trailing dot,
// and for a wildcard at least one more label.
func TestHostMatchComparesTheHostPartOnly(t *testing.T) {
	tests := []struct {
		host, authority string
		want            bool
	}{
		{"[::1]", "[::1]", true},
		{"[::1]", "[::1]:8443", true},
		{"[::1]", "[::2]:8443", false},
		{"[::1]", "[::1", false},
		{"a.example.com", "a.example.com:", true},
		{"a.example.com", ":a.example.com", false},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", ".example.com", false},
		{"*.example.com", ":a.example.com", false},
		{"*.example.com", "example.com", false},
	}
	for _, tt := range tests {
		m, msg := compileHost(tt.host)
		if msg != "" {
			t.Fatalf("compileHost(%q): %s", tt.host, msg)
		}
		if got := m.matches(tt.authority); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.host, tt.authority, got, tt.want)
		}
	}
}

// TestRegexMustBeAbleToStartWithASlash checks the first-character analysis
// of match.regex at the edges of character classes and repetitions.
func TestRegexMustBeAbleToStartWithASlash(t *testing.T) {
	tests := []struct {
		regex string
		ok    bool
	}{
		{"[/]x", true},
		{"[!-/]x", true},
		{"[/-9]x", true},
		{"[!-.]x", false},
		{"[0-9]x", false},
		{"(?:a){0,2}/x", true},
		{"(?:a){1,2}/x", false},
		{"(?:/){1,2}x", true},
		{"a?/x", true},
		{"a*/x", true},
		{"a+/x", false},
		{"(?:a|)/x", true},
		{"(?:a|b)/x", false},
		{"(?:a|/)x", true},
		{"^/x", true},
		{".x", true},
	}
	for _, tt := range tests {
		if _, msg := compileRegex(tt.regex); (msg == "") != tt.ok {
			t.Errorf("compileRegex(%q): %q, want ok=%v", tt.regex, msg, tt.ok)
		}
	}
}

// TestTemplateStringsSplitAtEachBrace checks where a string of a
// requirement is cut into literals and captures, and that a stray brace
// anywhere is refused.
func TestTemplateStringsSplitAtEachBrace(t *testing.T) {
	names := []string{"team", "model"}
	caps := captures{"ml", "iris"}
	tests := []struct {
		s, rendered, err string
	}{
		{"plain", "plain", ""},
		{"{team}", "ml", ""},
		{"{model}", "iris", ""},
		{"{team}:{model}", "ml:iris", ""},
		{"a/{team}/b/{model}/c", "a/ml/b/iris/c", ""},
		{"}a", "", `has a "}" without "{"`},
		{"a}{team}", "", `has a "}" without "{"`},
		{"{team}}", "", `has a "}" without "{"`},
		{"{team", "", `has a "{" without "}"`},
		{"a{", "", `has a "{" without "}"`},
		{"{}", "", `uses {}, which`},
		{"{other}", "", `uses {other}, which the rule's match does not capture (it captures team, model)`},
	}
	for _, tt := range tests {
		ts, msg := parseTString(tt.s, names)
		if tt.err != "" {
			if !strings.Contains(msg, tt.err) {
				t.Errorf("parseTString(%q): %q, want %q", tt.s, msg, tt.err)
			}
			continue
		}
		if msg != "" {
			t.Errorf("parseTString(%q): %s", tt.s, msg)
			continue
		}
		if got := ts.render(&caps); got != tt.rendered {
			t.Errorf("%q renders %q, want %q", tt.s, got, tt.rendered)
		}
		if !ts.equal(tt.rendered, &caps) || ts.equal(tt.rendered+"x", &caps) || !ts.prefixOf(tt.rendered+"x", &caps) {
			t.Errorf("%q does not compare as %q", tt.s, tt.rendered)
		}
	}
}

// TestClaimPrefixWithTheFirstCaptureNeedsThatCapture checks that a prefix
// built from a rule's first capture compares the captured value, not just
// the literal before it.
func TestClaimPrefixWithTheFirstCaptureNeedsThatCapture(t *testing.T) {
	f := fx(t)
	g := compile(t, authzConfig(t, `[
    {"match": {"path_template": "/teams/{team}/models/{model}"}, "requires": {"claims": [{"claim": "groups", "prefix": "/ml/{team}/"}]}},
    {"match": {"path_template": "/models/{model}"}, "requires": {"claims": [{"claim": "groups", "prefix": "{model}"}]}}]`))
	tests := []struct {
		name, path string
		groups     []string
		allow      bool
	}{
		{"the team's group", "/teams/scoring/models/iris", []string{"/ml/scoring/readers"}, true},
		{"another team's group", "/teams/scoring/models/iris", []string{"/ml/ads/readers"}, false},
		{"a group that is the literal alone", "/teams/scoring/models/iris", []string{"/ml//readers"}, false},
		{"a capture-only prefix", "/models/iris", []string{"iris-readers"}, true},
		{"a capture-only prefix of another value", "/models/iris", []string{"wine-readers"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mint(t, f.corp, issuer.Claims{"groups": tt.groups})
			if d := g.Decide(get(tt.path, bearer(tok)...), now()); d.Allow != tt.allow {
				t.Fatalf("allow=%v (%s), want %v", d.Allow, d.Reason, tt.allow)
			}
		})
	}
}
