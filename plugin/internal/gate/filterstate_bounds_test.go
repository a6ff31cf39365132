package gate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tokengate/tokengate/internal/issuer"
)

func TestStateNameTakesExactlyLettersDigitsUnderscoreDashAndInnerDots(t *testing.T) {
	tests := []struct {
		name   string
		dotted bool
		want   bool
	}{
		{"azAZ09_-", false, true},
		{"a", false, true},
		{"z", false, true},
		{"A", false, true},
		{"Z", false, true},
		{"0", false, true},
		{"9", false, true},
		{"_", false, true},
		{"-", false, true},
		{strings.Repeat("n", 64), false, true},
		{strings.Repeat("n", 65), false, false},
		{strings.Repeat("n.", 32)[:63] + "n", true, true}, // 64 bytes with dots
		{"", false, false},
		{"`", false, false}, // the byte before 'a'
		{"{", false, false}, // after 'z'
		{"@", false, false}, // before 'A'
		{"[", false, false}, // after 'Z'
		{"/", false, false}, // before '0'
		{":", false, false}, // after '9'
		{"a b", false, false},
		{"a\x00", false, false},
		{"é", false, false},
		{"a.b", false, false},
		{"a.b", true, true},
		{"a.b.c", true, true},
		{".a", true, false},
		{"a.", true, false},
		{".", true, false},
		{"a..b", true, false},
		{"a.b..c", true, false},
	}
	for _, tt := range tests {
		if got := stateName(tt.name, tt.dotted); got != tt.want {
			t.Errorf("stateName(%q, dotted %v) = %v, want %v", tt.name, tt.dotted, got, tt.want)
		}
	}
}

func TestStateValueRefusesControlCharactersOnly(t *testing.T) {
	tests := []struct {
		name, value string
		want        bool
	}{
		{"a space", "a b", true},
		{"a tilde, the last printable ASCII byte", "~", true},
		{"a unit separator", "a\x1fb", false},
		{"a tab", "a\tb", false},
		{"DEL", "a\x7fb", false},
		{"the first C1 control", "a\u0080b", false},
		{"the last C1 control", "a\u009fb", false},
		{"a no-break space, right after the C1 controls", "a\u00a0b", true},
		{"a line separator", "a\u2028b", false},
		{"a paragraph separator", "a\u2029b", false},
		{"other non-ASCII letters", "é中", true},
		{"invalid UTF-8", "a\xffb", false},
		{"1024 bytes", strings.Repeat("v", 1024), true},
		{"1025 bytes", strings.Repeat("v", 1025), false},
	}
	for _, tt := range tests {
		if got := stateValue(tt.value); got != tt.want {
			t.Errorf("%s: stateValue(%q) = %v, want %v", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestWritesFilterStateOnlyWhenConfigured(t *testing.T) {
	f := fx(t)
	tests := []struct {
		name, state string
		want        bool
	}{
		{"envoy_filter_state set", `"envoy_filter_state": {},`, true},
		{"envoy_filter_state not set", ``, false},
	}
	for _, tt := range tests {
		g := compile(t, stateConfig(f, tt.state))
		if got := g.WritesFilterState(); got != tt.want {
			t.Errorf("%s: WritesFilterState() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFilterStateWritesEveryConfiguredClaim(t *testing.T) {
	f := fx(t)
	g := compile(t, stateConfig(f, `"envoy_filter_state": {"claims": ["c1", "c2", "c3", "c4", "c5"]},`))
	tok, err := f.corp.Mint(issuer.Claims{"aud": aud, "sub": "alice", "scope": "read",
		"c1": "1", "c2": "2", "c3": "3", "c4": "4", "c5": "5"})
	if err != nil {
		t.Fatal(err)
	}
	d := g.Decide(get("/x", bearer(tok)...), time.Now())
	want := [][2]string{{"tokengate.provider", "corp"}, {"tokengate.sub", "alice"}, {"tokengate.scope", "read"},
		{"tokengate.c1", "1"}, {"tokengate.c2", "2"}, {"tokengate.c3", "3"}, {"tokengate.c4", "4"}, {"tokengate.c5", "5"}}
	if !d.Allow || !slices.Equal(d.FilterState, want) {
		t.Fatalf("allow %v, filter state\n got %q\nwant %q", d.Allow, d.FilterState, want)
	}
}

// render reads each claim at its id in values; an id past the end of values
// is a claim that is not there, never a crash.
func TestFilterStateRenderTreatsAClaimPastTheValuesAsMissing(t *testing.T) {
	fs := &filterState{provider: "t.provider", sub: "t.sub", scope: "t.scope", subID: 0,
		claims: []stateClaim{{name: "t.here", id: 1}, {name: "t.past", id: 2}, {name: "t.far", id: 7}}}
	p := &provider{name: "corp", scopeIDs: []int{3}}
	values := []gjson.Result{gjson.Parse(`"alice"`), gjson.Parse(`"x"`)}
	want := [][2]string{{"t.provider", "corp"}, {"t.sub", "alice"}, {"t.here", "x"}}
	if got := fs.render(p, values); !slices.Equal(got, want) {
		t.Fatalf("render\n got %q\nwant %q", got, want)
	}
}
