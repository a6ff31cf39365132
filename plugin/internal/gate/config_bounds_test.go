package gate

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// compileErr compiles config and returns its error text, "" when it compiles.
func compileErr(config string) string {
	if _, _, err := Compile([]byte(config)); err != nil {
		return err.Error()
	}
	return ""
}

// TestNumberSettingsAcceptTheirLimits: every number setting takes 0 and its
// documented maximum, and refuses the next number above it with a message
// that names the maximum as it is written in the documentation.
func TestNumberSettingsAcceptTheirLimits(t *testing.T) {
	prov := func(fields string) string {
		return `{"providers":{"a":{"issuer":"x"` + fields + `}}}`
	}
	top := func(fields string) string {
		return `{` + fields + `,"providers":{"a":{"issuer":"x"}}}`
	}
	tests := []struct {
		name, config, err string // the whole error; "" for accepted
	}{
		{"retry_after_seconds 0", top(`"retry_after_seconds":0`), ""},
		{"retry_after_seconds 3600", top(`"retry_after_seconds":3600`), ""},
		{"retry_after_seconds 3601", top(`"retry_after_seconds":3601`), "retry_after_seconds: must be a number from 0 to 3600"},
		{"cache_size 1048576", top(`"cache_size":1048576`), ""},
		{"cache_size 1048577", top(`"cache_size":1048577`), "cache_size: must be a number from 0 to 1048576"},
		{"clock_skew_seconds 0", prov(`,"clock_skew_seconds":0`), ""},
		{"clock_skew_seconds 600", prov(`,"clock_skew_seconds":600`), ""},
		{"clock_skew_seconds 600.5", prov(`,"clock_skew_seconds":600.5`), "providers.a.clock_skew_seconds: must be a number from 0 to 600"},
		{"max_lifetime_seconds ten years", prov(`,"max_lifetime_seconds":315360000`), ""},
		{"max_lifetime_seconds ten years and a second", prov(`,"max_lifetime_seconds":315360001`), "providers.a.max_lifetime_seconds: must be a number from 0 to 315360000"},
		{"refresh timeout_ms 60000", top(`"refresh":{"cluster":"j","timeout_ms":60000}`), ""},
		{"refresh timeout_ms 60001", top(`"refresh":{"cluster":"j","timeout_ms":60001}`), "refresh.timeout_ms: must be a number from 0 to 60000"},
		{"refresh timeout_ms 1", top(`"refresh":{"cluster":"j","timeout_ms":1}`), ""},
		{"refresh min_interval_seconds 86400", top(`"refresh":{"cluster":"j","min_interval_seconds":86400}`), ""},
		{"refresh min_interval_seconds 0", top(`"refresh":{"cluster":"j","min_interval_seconds":0}`), ""},
		{"refresh min_interval_seconds 86401", top(`"refresh":{"cluster":"j","min_interval_seconds":86401}`), "refresh.min_interval_seconds: must be a number from 0 to 86400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compileErr(tt.config); got != tt.err {
				t.Fatalf("Compile error %q, want %q", got, tt.err)
			}
		})
	}
}

// TestNumberSettingsAreUsedAsGiven: the retry_after_seconds and cache_size
// read from the configuration are the ones in force.
func TestNumberSettingsAreUsedAsGiven(t *testing.T) {
	tests := []struct {
		fields    string
		retry     string
		cacheSize int
	}{
		{`"retry_after_seconds":3600,"cache_size":1048576`, "3600", 1 << 20},
		{`"retry_after_seconds":0,"cache_size":0`, "0", 0},
		{`"cache_size":7`, "5", 7},
		{`"retry_after_seconds":17`, "17", 1024},
	}
	for _, tt := range tests {
		t.Run(tt.fields, func(t *testing.T) {
			g := compile(t, `{`+tt.fields+`,"providers":{"a":{"issuer":"x"}}}`)
			if g.retryAfter != tt.retry || g.cache.max != tt.cacheSize {
				t.Fatalf("retry-after %q, cache size %d; want %q, %d", g.retryAfter, g.cache.max, tt.retry, tt.cacheSize)
			}
		})
	}
}

// TestRealmIsAnyPrintableASCIIButQuoteAndBackslash: the realm is quoted in
// WWW-Authenticate as it is, so it takes exactly the bytes from space to
// tilde other than '"' and '\'.
func TestRealmIsAnyPrintableASCIIButQuoteAndBackslash(t *testing.T) {
	tests := []struct {
		realm string
		ok    bool
	}{
		{" ", true},
		{"~", true},
		{"models of the corp ~ test!", true},
		{"a\x1fb", false},
		{"a\x7fb", false},
		{"a\u00e9b", false},
		{`a"b`, false},
		{`a\b`, false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.realm), func(t *testing.T) {
			realm, _ := json.Marshal(tt.realm)
			got := compileErr(`{"realm":` + string(realm) + `,"providers":{"a":{"issuer":"x"}}}`)
			if tt.ok != (got == "") || !tt.ok && !strings.Contains(got, "realm: must be") {
				t.Fatalf("Compile error %q, want accepted %v", got, tt.ok)
			}
		})
	}
}

// TestHeaderNamesAreHTTPTokens: a header the gate sets upstream, or reads a
// token from, is an RFC 9110 token: every letter, digit and each of
// !#$%&'*+-.^_`|~ at either end of its range, and nothing else.
func TestHeaderNamesAreHTTPTokens(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"z", true}, {"A", true}, {"Z", true}, {"0", true}, {"9", true},
		{"!", true}, {"~", true}, {"x-user_id.v1", true}, {"#$%&'*+-.^_`|", true},
		{"a b", false}, {"a:b", false}, {"a/b", false}, {"a@b", false}, {"a{b", false},
		{"a[b", false}, {"a\"b", false}, {"é", false}, {"", false},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.name), func(t *testing.T) {
			b, _ := json.Marshal(tt.name)
			q := string(b)
			for field, config := range map[string]string{
				"claim_to_headers": `{"providers":{"a":{"issuer":"x","claim_to_headers":[{"claim":"sub","header":` + q + `}]}}}`,
				"payload_header":   `{"providers":{"a":{"issuer":"x","payload_header":` + q + `}}}`,
				"from_headers":     `{"providers":{"a":{"issuer":"x","from_headers":[{"name":` + q + `}]}}}`,
			} {
				got := compileErr(config)
				if tt.ok != (got == "") || !tt.ok && !strings.Contains(got, "must be a valid HTTP header name") {
					t.Errorf("%s: Compile error %q, want accepted %v", field, got, tt.ok)
				}
			}
		})
	}
}

// TestTokenPlacesAreBoundedAtSixtyFour: the providers a rule (or the
// implicit rule) uses may read tokens from 64 places, not 65.
func TestTokenPlacesAreBoundedAtSixtyFour(t *testing.T) {
	params := func(n int) string {
		names := make([]string, n)
		for i := range names {
			names[i] = strconv.Quote("p" + strconv.Itoa(i))
		}
		return `[` + strings.Join(names, ",") + `]`
	}
	const rules = `,"rules":[{"match":{"prefix":"/"},"requires":{"providers":["a","b"]}}]`
	tests := []struct {
		name, config, err string
	}{
		{"64 places without rules", `{"providers":{"a":{"issuer":"x","from_params":` + params(64) + `}}}`, ""},
		{"65 places without rules", `{"providers":{"a":{"issuer":"x","from_params":` + params(65) + `}}}`,
			"providers: the providers read tokens from more than 64 places"},
		{"64 places in a rule", `{"providers":{"a":{"issuer":"x","from_params":` + params(63) + `},"b":{"issuer":"y","from_cookies":["c"]}}` + rules + `}`, ""},
		{"65 places in a rule", `{"providers":{"a":{"issuer":"x","from_params":` + params(64) + `},"b":{"issuer":"y","from_cookies":["c"]}}` + rules + `}`,
			"rules[0].requires.providers: these providers read tokens from more than 64 places"},
		{"a place two providers share counts once", `{"providers":{"a":{"issuer":"x","from_params":` + params(64) + `},"b":{"issuer":"y","from_params":["p0"]}}` + rules + `}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compileErr(tt.config)
			if tt.err == "" && got != "" || tt.err != "" && !strings.Contains(got, tt.err) {
				t.Fatalf("Compile error %q, want %q", got, tt.err)
			}
		})
	}
}

// TestProvidersAreListedByName: whatever order the configuration names them
// in, providers are kept and listed sorted by name.
func TestProvidersAreListedByName(t *testing.T) {
	tests := []struct {
		names []string
		want  string
	}{
		{[]string{"b", "a", "c"}, "a,b,c"},
		{[]string{"a", "b"}, "a,b"},
		{[]string{"zeta", "Zeta", "alpha", "alpha2"}, "Zeta,alpha,alpha2,zeta"},
		{[]string{"only"}, "only"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			provs := make([]string, len(tt.names))
			for i, n := range tt.names {
				provs[i] = strconv.Quote(n) + `:{"issuer":"` + n + `"}`
			}
			g := compile(t, `{"providers":{`+strings.Join(provs, ",")+`}}`)
			if got := strings.Join(g.Providers(), ","); got != tt.want {
				t.Fatalf("Providers() = %s, want %s", got, tt.want)
			}
		})
	}
}
