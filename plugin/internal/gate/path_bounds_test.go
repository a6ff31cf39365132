package gate

import "testing"

// TestCanonicalPathDrawsEachLineAtTheRightByte walks the edges of every rule
// of the canonical form: the last byte refused and the first accepted on each
// side, escapes at the end of the path, and dots that look like, but are not,
// dot segments. "400" stands for a refusal.
func TestCanonicalPathDrawsEachLineAtTheRightByte(t *testing.T) {
	t.Parallel()
	const refused = "400"
	for _, tc := range []struct {
		name, in, reject, rewrite string
	}{
		{"! is the first byte allowed above space", "/a!b", "/a!b", "/a!b"},
		{"~ is the last byte allowed below DEL", "/a~b", "/a~b", "/a~b"},
		{"a raw DEL is refused", "/a\x7fb", refused, refused},
		{"a raw tab is refused", "/a\tb", refused, refused},
		{"a raw semicolon is refused", "/a;b", refused, refused},
		{"a raw backslash is refused", `/a\b`, refused, refused},
		{"a raw # is refused", "/a#", refused, refused},
		{"an encoded space is the first encoded byte allowed", "/a%20", "/a%20", "/a%20"},
		{"an encoded unit separator is refused", "/a%1F", refused, refused},
		{"an encoded DEL is refused", "/a%7F", refused, refused},
		{"an encoded slash in lower case is refused", "/a%2fb", refused, refused},
		{"an encoded backslash is refused", "/a%5Cb", refused, refused},
		{"an encoded semicolon is refused", "/a%3Bb", refused, refused},
		{"an encoded percent sign is refused", "/a%25", refused, refused},
		{"an escape that ends the path is read", "/a%3F", "/a%3F", "/a%3F"},
		{"an escape of an unreserved byte at the end is decoded", "/a%41", refused, "/aA"},
		{"escapes of the ends of a-z are decoded", "/%61%7A", refused, "/az"},
		{"escapes of the ends of A-Z are decoded", "/%41%5A", refused, "/AZ"},
		{"escapes of the ends of 0-9 are decoded", "/%30%39", refused, "/09"},
		{"escapes of - . _ ~ are decoded", "/%2D%2E%5F%7E", refused, "/-._~"},
		{"escapes of the neighbours of a-z stay", "/%60%7B", "/%60%7B", "/%60%7B"},
		{"escapes of the neighbours of A-Z stay", "/%40%5B", "/%40%5B", "/%40%5B"},
		{"escapes of the neighbours of 0-9 stay", "/%3A", "/%3A", "/%3A"},
		{"an escape with one hex digit at the end is refused", "/a%3", refused, refused},
		{"a lone % at the end is refused", "/a%", refused, refused},
		{"a lower-case escape of a reserved byte is upper-cased", "/a%3f", "/a%3F", "/a%3F"},
		{"a lower-case high digit alone is upper-cased", "/X%bC", "/X%BC", "/X%BC"},
		{"lower-case high digits after a slash and a digit are upper-cased", "/%c3%A9", "/%C3%A9", "/%C3%A9"},
		{"a trailing slash is kept", "/a/", "/a/", "/a/"},
		{"a single slash is the root", "/", "/", "/"},
		{"a double slash at the end is merged", "/a//", refused, "/a/"},
		{"a double slash at the start is merged", "//a", refused, "/a"},
		{"a dot inside a name is not a dot segment", "/a/b.c", "/a/b.c", "/a/b.c"},
		{"a leading dot in a name is not a dot segment", "/a/.well-known", "/a/.well-known", "/a/.well-known"},
		{"three dots are a name", "/a/...", "/a/...", "/a/..."},
		{"two dots ending a name are not a dot segment", "/a/b..", "/a/b..", "/a/b.."},
		{"a dot segment at the end is resolved", "/a/.", refused, "/a/"},
		{"a dot segment alone is the root", "/.", refused, "/"},
		{"a dot-dot segment in the middle is resolved", "/a/b/../c", refused, "/a/c"},
		{"dot-dot never climbs above the root", "/../../a", refused, "/a"},
		{"an encoded dot-dot is a dot-dot", "/a/%2E%2E/b", refused, "/b"},
		{"no path at all matches nothing", "", "", ""},
		{"a path must start with a slash", "a/b", refused, refused},
	} {
		for _, mode := range []struct {
			rewrite bool
			want    string
		}{{false, tc.reject}, {true, tc.rewrite}} {
			got, ok := canonicalPath(tc.in, mode.rewrite)
			if !ok {
				got = refused
			}
			if got != mode.want {
				t.Errorf("%s: canonicalPath(%q, rewrite=%v) = %q, want %q", tc.name, tc.in, mode.rewrite, got, mode.want)
			}
		}
	}
}

// TestSameHeaderNameFoldsCaseAndUnderscoreOnly: "X_User" and "x-user" are
// one header to a CGI-style back-end; letters next to A-Z, and any other
// difference, are not folded.
func TestSameHeaderNameFoldsCaseAndUnderscoreOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"X_User", "x-user", true},
		{"AZ", "az", true},
		{"@[", "`{", false}, // the bytes next to A and Z are not letters
		{"x-user", "x-users", false},
		{"x.user", "x-user", false},
		{"x user", "x-user", false},
	} {
		if got := sameHeaderName(tc.a, tc.b); got != tc.same {
			t.Errorf("sameHeaderName(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

// TestUpperASCIIChangesOnlyLowerCaseLetters: methods are compared in upper
// case; the ends of a-z are upper-cased and their neighbours left alone.
func TestUpperASCIIChangesOnlyLowerCaseLetters(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"get": "GET", "a": "A", "z": "Z", "GET": "GET", "`{": "`{", "m-search": "M-SEARCH", "": "",
	} {
		if got := upperASCII(in); got != want {
			t.Errorf("upperASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSamePathIgnoresOneTrailingSlashOnly: an exact-path rule covers its
// path with or without one trailing slash; the root is not the empty path
// (a CONNECT request has none) and two slashes are not one.
func TestSamePathIgnoresOneTrailingSlashOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule, path string
		same       bool
	}{
		{"/a", "/a/", true},
		{"/a/", "/a", true},
		{"/a", "/a", true},
		{"/", "/", true},
		{"/", "", false},
		{"", "/", false},
		{"/a", "/a//", false},
		{"/a", "/ab", false},
	} {
		if got := samePath(tc.rule, tc.path); got != tc.same {
			t.Errorf("samePath(%q, %q) = %v, want %v", tc.rule, tc.path, got, tc.same)
		}
	}
}
