//go:build !wasip1

package main

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

// The request-view classes of internal/gate, through the real module: what
// matters is the request that leaves the plugin for the upstream.

func viewConfig(idp *issuer.Issuer, mode string) string {
	return `{"realm": "models", "ambiguous_paths": "` + mode + `",
  "providers": {"corp": {"issuer": "` + iss + `", "audiences": ["` + aud + `"], "jwks": ` + string(idp.JWKS()) + `,
    "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
    "from_params": ["access_token"], "from_cookies": ["session"],
    "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}},
  "rules": [
    {"match": {"prefix": "/public"}},
    {"match": {"prefix": "/admin"}, "requires": {"scopes": ["admin"]}},
    {"match": {"prefix": "/"}, "requires": {}}
  ]}`
}

func upstreamHeader(r testhost.Response, name string) []string {
	var out []string
	for _, h := range r.Headers {
		if strings.EqualFold(strings.ReplaceAll(h[0], "_", "-"), name) {
			out = append(out, h[0]+": "+h[1])
		}
	}
	return out
}

func TestRequestViewThroughTheModule(t *testing.T) {
	idp := newIssuer(t)
	user := token(t, idp, issuer.Claims{"scope": "read"})
	mallory := token(t, idp, issuer.Claims{"scope": "read", "sub": "mallory"})
	reject := testhost.New(t, viewConfig(idp, "reject"))
	rewrite := testhost.New(t, viewConfig(idp, "rewrite"))

	t.Run("ambiguous paths are refused", func(t *testing.T) {
		for _, p := range []string{"/admin;/users", "/admin;x=1/users", "//admin/users", "/%61dmin/users",
			"/public/..;/admin/users", "/public/../admin", "/public/%2e%2e/admin", "/public%2f..%2fadmin",
			`/public\..\admin`, "/public/..%5cadmin", "/public/%252e%252e/admin", "/public%00/../admin"} {
			for _, auth := range []string{"", "Bearer " + user} {
				var hs [][2]string
				if auth != "" {
					hs = [][2]string{{"authorization", auth}}
				}
				r := reject.Do(t, testhost.Request{Path: p, Headers: hs})
				if r.Continued || r.Status != 400 || !strings.Contains(r.Header("www-authenticate"), `error="invalid_request"`) {
					t.Errorf("%q: continued=%v status %d %q, want 400 invalid_request", p, r.Continued, r.Status, r.Header("www-authenticate"))
				}
			}
		}
	})
	t.Run("rewrite forwards the judged path", func(t *testing.T) {
		tests := []struct {
			in, upstream string
			status       int
		}{
			{"/public/../admin/users", "", 403},
			{"//admin/users", "", 403},
			{"/%61dmin/users", "", 403},
			{"/public/%2e%2e/v1//score", "/v1/score", 0},
			{"/admin;/users", "", 400},
		}
		for _, tt := range tests {
			r := rewrite.Do(t, testhost.Request{Path: tt.in, Headers: [][2]string{{"authorization", "Bearer " + user}}})
			switch {
			case tt.status != 0 && (r.Continued || r.Status != tt.status):
				t.Errorf("%q: continued=%v status %d, want %d", tt.in, r.Continued, r.Status, tt.status)
			case tt.status == 0 && (!r.Continued || upstreamHeader(r, ":path")[0] != ":path: "+tt.upstream):
				t.Errorf("%q: continued=%v upstream path %q, want %q", tt.in, r.Continued, upstreamHeader(r, ":path"), tt.upstream)
			}
		}
	})
	t.Run("forged claim headers never reach the upstream", func(t *testing.T) {
		for _, name := range []string{"x-user", "X-User", "X_User", "x_user", "X_USER"} {
			for _, path := range []string{"/public", "/v1"} {
				r := reject.Do(t, testhost.Request{Path: path, Headers: [][2]string{{name, "mallory"}, {"authorization", "Bearer " + user}}})
				got := upstreamHeader(r, "x-user")
				want := "x-user: alice"
				if path == "/public" {
					want = "" // a public route sets no claims, and removes forged ones
				}
				if !r.Continued || want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
					t.Errorf("%s %s: upstream x-user headers %q, want only %q", path, name, got, want)
				}
			}
		}
	})
	t.Run("repeated credentials are refused", func(t *testing.T) {
		for _, r := range []testhost.Request{
			{Path: "/v1?access_token=" + user + "&access_token=" + mallory},
			{Path: "/v1?access_token=" + user + "&access%5Ftoken=" + mallory},
			{Path: "/v1", Headers: [][2]string{{"cookie", "session=" + user + "; session=" + mallory}}},
			{Path: "/v1", Headers: [][2]string{{"cookie", "session=" + user}, {"cookie", "session=" + mallory}}},
		} {
			if res := reject.Do(t, r); res.Continued || res.Status != 400 {
				t.Errorf("%q %q: continued=%v status %d, want 400", r.Path, r.Headers, res.Continued, res.Status)
			}
		}
	})
	t.Run("a token in two places is stripped from both", func(t *testing.T) {
		r := reject.Do(t, testhost.Request{Path: "/v1?access_token=" + user + "&a=1",
			Headers: [][2]string{{"authorization", "Bearer " + user}, {"cookie", "session=" + user + "; theme=dark"}}})
		if !r.Continued {
			t.Fatalf("refused with %d", r.Status)
		}
		for _, h := range r.Headers {
			if strings.Contains(h[1], user) {
				t.Errorf("the token reaches the upstream in %s", h[0])
			}
		}
	})
}

// TestRefusalLogNamesWhatWasWrong: the log line of a refusal says which
// audience the token had, the response does not.
func TestRefusalLogNamesWhatWasWrong(t *testing.T) {
	idp := newIssuer(t)
	th := testhost.New(t, config(t, idp))
	tok := token(t, idp, issuer.Claims{"aud": "api://elsewhere"})
	r := th.Do(t, testhost.Request{Path: "/v1/score", Headers: [][2]string{{"authorization", "Bearer " + tok}}})
	logs := strings.Join(r.Logs, "\n")
	if r.Status != 401 || !strings.Contains(logs, `aud "api://elsewhere"`) || strings.Contains(logs, tok) {
		t.Fatalf("status %d, logs %q", r.Status, logs)
	}
	if strings.Contains(string(r.Body)+r.Header("www-authenticate"), "elsewhere") {
		t.Fatalf("the response names the audience")
	}
}
