package backends

import (
	"strings"
	"testing"
)

// TestViolationsFlagEachBreach holds the invariant itself to account: each
// kind of breach a back-end can report is flagged, and the reports of
// correctly decided requests are not, so that a passing differential run
// means the back-ends saw nothing wrong rather than that nothing was checked.
func TestViolationsFlagEachBreach(t *testing.T) {
	none := credential{name: "none"}
	user := credential{name: "user", token: "USER", subject: "alice"}
	admin := credential{name: "admin", token: "ADMIN", subject: "ada", admin: true}
	names := strings.NewReplacer()
	rep := func(path string, mod func(*report)) *report {
		r := &report{Backend: "go", Path: path}
		if mod != nil {
			mod(r)
		}
		return r
	}
	xUser := func(name, value string) func(*report) {
		return func(r *report) { r.XUser = append(r.XUser, namedValue{name, value}) }
	}
	tests := []struct {
		name string
		cred credential
		rep  *report
		says string // "" when the report is correct
	}{
		{"an admin path served to an admin token is correct", admin, rep("/admin/users", xUser("X-User", "ada")), ""},
		{"a public path served without a credential is correct", none, rep("/public/info", nil), ""},
		{"a forged token read on a public path is the application's business", none, rep("/public/x", func(r *report) { r.AccessToken = []string{"F"} }), ""},
		{"/admin/users served to a token without admin is a breach", user, rep("/admin/users", nil), "served admin resource"},
		{"/admin itself served to a token without admin is a breach", user, rep("/admin", nil), "served admin resource"},
		{"/adminx is not under /admin", user, rep("/adminx", nil), ""},
		{"a non-public path served without a credential is a breach", none, rep("/v1/data", nil), "without a credential"},
		{"/publicity is not under /public", none, rep("/publicity", nil), "without a credential"},
		{"an x-user without a credential is a breach", none, rep("/public/info", xUser("HTTP_X_USER", "mallory")), "without a verified subject"},
		{"an x-user other than the subject is a breach", user, rep("/v1/data", xUser("X_user", "mallory")), `verified subject "alice"`},
		{"a merged x-user is a breach", user, rep("/v1/data", xUser("HTTP_X_USER", "alice,mallory")), `"alice,mallory"`},
		{"a second access_token is a breach", user, rep("/v1/data", func(r *report) { r.AccessToken = []string{"USER", "F"} }), "access_token parameter"},
		{"a second session cookie is a breach", user, rep("/v1/data", func(r *report) { r.Session = []string{"F", "USER"} }), "session cookie"},
		{"the verified token read back is correct", user, rep("/v1/data", func(r *report) { r.Session = []string{"USER"}; r.AccessToken = []string{"USER"} }), ""},
		{"an answer from another back-end is a breach", admin, &report{Backend: "tomcat", Path: "/v1/data"}, "answered by back-end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(violations(tt.cred, "go", tt.rep, names), "; ")
			switch {
			case tt.says == "" && got != "":
				t.Fatalf("flagged a correct report: %s", got)
			case tt.says != "" && !strings.Contains(got, tt.says):
				t.Fatalf("violations = %q, want one saying %q", got, tt.says)
			}
		})
	}
}

// TestRenderPlacesTheCredential checks the raw requests the cases become:
// the credential goes where the case puts {tok}, or in Authorization, and
// without a credential every carrier of {tok} is left out while the forged
// copies stay.
func TestRenderPlacesTheCredential(t *testing.T) {
	tests := []struct {
		name      string
		c         hostileCase
		tok, want string
	}{
		{"a token goes in Authorization by default",
			hostileCase{target: "/v1/data"}, "T",
			"GET /v1/data HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer T\r\nConnection: close\r\n\r\n"},
		{"no credential leaves Authorization out",
			hostileCase{target: "/v1/data", headers: []string{"X_User: mallory"}}, "",
			"GET /v1/data HTTP/1.1\r\nHost: h\r\nX_User: mallory\r\nConnection: close\r\n\r\n"},
		{"a parameter case keeps only the forged copy without a credential",
			hostileCase{target: "/v1/data?access_token={tok}&access_token={forged}"}, "",
			"GET /v1/data?access_token=F HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"a parameter case carries the token and the forged copy",
			hostileCase{target: "/v1/data?access_token={forged}&access_token={tok}"}, "T",
			"GET /v1/data?access_token=F&access_token=T HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
		{"a cookie header holding only the token is left out without a credential",
			hostileCase{target: "/v1/data", headers: []string{"Cookie: session={tok}", "Cookie: session={forged}"}}, "",
			"GET /v1/data HTTP/1.1\r\nHost: h\r\nCookie: session=F\r\nConnection: close\r\n\r\n"},
		{"a case's own Connection header replaces the closing one",
			hostileCase{method: "HEAD", target: "http://{host}/x", headers: []string{"Connection: close, X-User"}}, "T",
			"HEAD http://h/x HTTP/1.1\r\nHost: h\r\nConnection: close, X-User\r\nAuthorization: Bearer T\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, _ := tt.c.render("h", tt.tok, "F")
			if string(raw) != tt.want {
				t.Fatalf("render = %q\nwant     %q", raw, tt.want)
			}
		})
	}
}
