package gate

import (
	"strings"
	"testing"
	"time"
)

// TestLoginSettingsHonourTheirLimitsExactly compiles each session setting
// at its limit and one past it, so that a limit moved by one is seen.
func TestLoginSettingsHonourTheirLimitsExactly(t *testing.T) {
	t.Parallel()
	jwks := string(fx(t).corp.JWKS())
	withLogin := func(extra string) string {
		return `{"providers": {"corp": {"issuer": "` + corpURL + `", "jwks": ` + jwks + `, "login": ` + loginProvider(oneKey, extra) + `}}}`
	}
	tests := []struct {
		name, extra, want string
	}{
		{"a session of 30 days", `, "session_lifetime_seconds": 2592000`, ""},
		{"a session of 30 days and a second", `, "session_lifetime_seconds": 2592001`, "session_lifetime_seconds"},
		{"a session of a minute", `, "session_lifetime_seconds": 60`, ""},
		{"a session of 59 seconds", `, "session_lifetime_seconds": 59`, "session_lifetime_seconds: must be at least 60"},
		{"a state of 30 seconds", `, "state_lifetime_seconds": 30`, ""},
		{"a state of 29 seconds", `, "state_lifetime_seconds": 29`, "state_lifetime_seconds: must be at least 30"},
		{"a state of one second", `, "state_lifetime_seconds": 1`, "state_lifetime_seconds: must be at least 30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(withLogin(tt.extra)))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Compile = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestScopeTokenTakesPrintableASCIIUpToTilde draws the bounds of an RFC 6749
// scope token byte by byte.
func TestScopeTokenTakesPrintableASCIIUpToTilde(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		want bool
	}{
		{"a~b", true},
		{"~", true},
		{"!", true},
		{"a\x7fb", false},
		{"a b", false},
		{"a\"b", false},
		{`a\b`, false},
		{"", false},
	}
	for _, tt := range tests {
		if got := scopeToken(tt.s); got != tt.want {
			t.Errorf("scopeToken(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// TestEveryProvidersLoginIsRead: the "login" of a provider after the first
// is compiled too (a bad one refused), and with no rules the one login
// provider signs browsers in.
func TestEveryProvidersLoginIsRead(t *testing.T) {
	t.Parallel()
	jwks := string(fx(t).corp.JWKS())
	second := strings.Replace(loginProvider(oneKey, `, "cookie_name": "tg2"`), "/oauth2/", "/two/", -1)
	tests := []struct {
		name, config, want string
	}{
		{"a bad login on the second provider", `{"providers": {
			"corp": {"issuer": "` + corpURL + `", "jwks": ` + jwks + `, "login": ` + loginProvider(oneKey, "") + `},
			"other": {"issuer": "https://other.example.com", "jwks": ` + jwks + `, "login": ` + strings.Replace(second, `"client_secret": "s3cret:/+",`, "", 1) + `}}}`,
			"providers.other.login.client_secret: is required"},
		{"two login providers and no rules", `{"providers": {
			"corp": {"issuer": "` + corpURL + `", "jwks": ` + jwks + `, "login": ` + loginProvider(oneKey, "") + `},
			"other": {"issuer": "https://other.example.com", "jwks": ` + jwks + `, "login": ` + second + `}}}`,
			"several providers have \"login\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Compile = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("no rules: a page load signs in", func(t *testing.T) {
		g := compile(t, `{"providers": {"corp": {"issuer": "`+corpURL+`", "audiences": ["`+aud+`"], "jwks": `+jwks+`, "login": `+loginProvider(oneKey, "")+`}}}`)
		redirected(t, g.Decide(page("/", ""), time.Now()))
	})
}
