package gate

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestContainsFoldASCIIReachesTheEnd: a substring that ends the string, or
// is the whole string, is found.
func TestContainsFoldASCIIReachesTheEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, sub string
		want   bool
	}{
		{"text/HTML", "text/html", true},
		{"application/xhtml+XML", "xml", true},
		{"xml", "xml", true},
		{"xm", "xml", false},
		{"text/plain", "html", false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := containsFoldASCII(tt.s, tt.sub); got != tt.want {
			t.Errorf("containsFoldASCII(%q, %q) = %v, want %v", tt.s, tt.sub, got, tt.want)
		}
	}
}

// TestCallbackParamsTakeValuesOfUpTo4096Bytes draws the limit on a
// callback parameter's decoded value.
func TestCallbackParamsTakeValuesOfUpTo4096Bytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query string
		ok          bool
	}{
		{"a code of 4096 bytes", "code=" + strings.Repeat("a", 4096) + "&state=s", true},
		{"a code of 4097 bytes", "code=" + strings.Repeat("a", 4097) + "&state=s", false},
		{"a state of 4096 bytes, escaped", "state=" + strings.Repeat("%41", 4096), true},
		{"a state of 4097 bytes, escaped", "state=" + strings.Repeat("%41", 4097), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := callbackParams(tt.query)
			if ok != tt.ok {
				t.Fatalf("callbackParams ok = %v, want %v", ok, tt.ok)
			}
			if ok && len(p.code)+len(p.state) < 4096 {
				t.Fatalf("the long value was not read: %d, %d bytes", len(p.code), len(p.state))
			}
		})
	}
}

// TestASessionPastItsLifetimeIsRefusedAndSaysWhy: a session cookie that
// opens but whose session outlived the configured lifetime (the lifetime
// was shortened), and one sealed with a key no longer configured, are
// refused with the reason in the detail.
func TestASessionPastItsLifetimeIsRefusedAndSaysWhy(t *testing.T) {
	t.Parallel()
	at := time.Now()
	p := &idp{t: t, ttl: time.Hour}
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	cookies, _ := signedIn(t, g, p, "/", at)
	jarHeader := cookieHeader(cookies)
	tests := []struct {
		name, extra, keys string
		at                time.Duration
		detail            string
	}{
		{"the lifetime shortened to a minute", `, "session_lifetime_seconds": 60`, oneKey, 61 * time.Second, "the cookie has expired"},
		{"the key replaced", "", `[{"id": "k2", "key": "` + cookieKey2 + `"}]`, time.Second, "a key the configuration no longer has"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g2 := compile(t, loginConfig(t, tt.keys, tt.extra, "false"))
			d := g2.Decide(xhr("GET", "/x", jarHeader), at.Add(tt.at))
			if d.Status != 401 || d.Code != "session_expired" || !strings.Contains(d.Detail, tt.detail) {
				t.Fatalf("decision %d %s (%s), want 401 session_expired saying %q", d.Status, d.Code, d.Detail, tt.detail)
			}
		})
	}
}

// TestDropLoginCookiesKeepsEveryOtherHeader: removing the sign-in cookies
// from a request's cookie header leaves every header the decision sets
// upstream, whatever its place.
func TestDropLoginCookiesKeepsEveryOtherHeader(t *testing.T) {
	t.Parallel()
	g := compile(t, loginConfig(t, oneKey, "", "false"))
	tests := []struct {
		name   string
		set    [][2]string
		cookie string
		want   [][2]string
	}{
		{"two headers set, the cookie in the request",
			[][2]string{{"x-a", "1"}, {"x-b", "2"}, {"x-c", "3"}}, "__Host-tokengate=abc; keep=1",
			[][2]string{{"x-a", "1"}, {"x-b", "2"}, {"x-c", "3"}, {"cookie", "keep=1"}}},
		{"one header set, only a login cookie",
			[][2]string{{"x-a", "1"}, {"x-b", "2"}}, "__Host-tokengate-state=abc",
			[][2]string{{"x-a", "1"}, {"x-b", "2"}}},
		{"a stripped cookie header already set",
			[][2]string{{"x-a", "1"}, {"cookie", "__Host-tokengate=abc; keep=1"}, {"x-c", "3"}}, "__Host-tokengate=abc; keep=1; tok=x",
			[][2]string{{"x-a", "1"}, {"x-c", "3"}, {"cookie", "keep=1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decision{SetHeaders: slices.Clone(tt.set)}
			req := &request{headers: [][2]string{{":method", "GET"}, {"cookie", tt.cookie}}}
			g.dropLoginCookies(&d, req)
			if !slices.Equal(d.SetHeaders, tt.want) {
				t.Fatalf("SetHeaders = %q, want %q", d.SetHeaders, tt.want)
			}
			if !slices.Contains(d.RemoveHeaders, "cookie") {
				t.Fatalf("RemoveHeaders = %q, want the cookie header removed", d.RemoveHeaders)
			}
		})
	}
}

// TestFormEscapeKeepsOnlyUnreservedCharacters checks each end of the
// letter and digit ranges and the bytes just outside them.
func TestFormEscapeKeepsOnlyUnreservedCharacters(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"AZ", "AZ"},
		{"az", "az"},
		{"09", "09"},
		{"@[", "%40%5B"},
		{"`{", "%60%7B"},
		{"/:", "%2F%3A"},
		{"-._~", "-._~"},
		{" +\xff", "%20%2B%FF"},
	}
	for _, tt := range tests {
		if got := formEscape(tt.in); got != tt.want {
			t.Errorf("formEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
