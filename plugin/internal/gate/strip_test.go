package gate

import (
	"slices"
	"testing"
)

// TestStripRemovesTheCredentialAndNothingElse: the upstream request keeps
// every other query pair and cookie byte for byte, but the credential goes
// under every name it was counted under, wherever it sits.
func TestStripRemovesTheCredentialAndNothingElse(t *testing.T) {
	t.Parallel()
	param := source{kind: fromParam, name: "access_token"}
	cookie := source{kind: fromCookie, name: "session"}
	for _, tc := range []struct {
		name    string
		src     source
		query   string
		headers [][2]string
		path    string   // the new :path for a parameter
		cookie  string   // the new cookie header, "" for none
		removed []string // headers that must be in RemoveHeaders
	}{
		{"a parameter alone", param, "access_token=T", nil, "/p", "", nil},
		{"a parameter first", param, "access_token=T&a=1", nil, "/p?a=1", "", nil},
		{"a parameter last", param, "a=1&access_token=T", nil, "/p?a=1", "", nil},
		{"a parameter in the middle keeps the separators", param, "a=1;access_token=T&b=2", nil, "/p?a=1;b=2", "", nil},
		{"a parameter after a leading separator", param, ";access_token=T&a=1", nil, "/p?;a=1", "", nil},
		{"a parameter after an empty pair", param, "a=1&&access_token=T", nil, "/p?a=1", "", nil},
		{"a parameter under a folded name", param, "Access.Token=T&a=1", nil, "/p?a=1", "", nil},
		{"a cookie among others", cookie, "", [][2]string{{"cookie", "a=1; session=T; b=2"}}, "", "a=1; b=2", []string{"cookie"}},
		{"a cookie alone", cookie, "", [][2]string{{"cookie", "session=T"}}, "", "", []string{"cookie"}},
		{"a cookie after a leading separator", cookie, "", [][2]string{{"cookie", ";session=T,b=2"}}, "", "b=2", []string{"cookie"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &request{path: "/p", query: tc.query, headers: tc.headers}
			var d Decision
			strip(&d, req, tc.src)
			if tc.src.kind == fromParam && d.Path != tc.path {
				t.Errorf("path = %q, want %q", d.Path, tc.path)
			}
			var set []string
			for _, h := range d.SetHeaders {
				if h[0] == "cookie" {
					set = append(set, h[1])
				}
			}
			if want := []string{tc.cookie}; tc.cookie == "" && len(set) != 0 || tc.cookie != "" && !slices.Equal(set, want) {
				t.Errorf("cookie headers set = %q, want %q (none when empty)", set, tc.cookie)
			}
			for _, h := range tc.removed {
				if !slices.Contains(d.RemoveHeaders, h) {
					t.Errorf("RemoveHeaders = %q, want %q in it", d.RemoveHeaders, h)
				}
			}
		})
	}
}
