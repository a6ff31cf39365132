// Package docs holds the project's prose; its test keeps the prose true.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// refPattern finds `path/file_test.go:TestName...` references; a reference
// may continue in the same cell with bare `TestOther` names for the same file.
var (
	refPattern  = regexp.MustCompile("`([a-zA-Z0-9_./-]+_test\\.go):((?:Test|Fuzz|Benchmark|Example)[A-Za-z0-9_]*)(/[^`]*)?`")
	barePattern = regexp.MustCompile("`((?:Test|Fuzz|Benchmark|Example)[A-Za-z0-9_]*)(/[^`]*)?`")
)

// abbreviations used in docs/security-rules.md.
var abbreviations = map[string]string{"gate/": "plugin/internal/gate/", "jwk/": "internal/jwk/"}

// TestTestReferencesExist checks every test a document names: the file
// exists and defines the function, and a named subtest's text appears in the
// file (subtests built in loops are named by their parts).
func TestTestReferencesExist(t *testing.T) {
	docs := []string{"../SECURITY.md", "security-rules.md"}
	checked := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			file := ""
			rest := line
			for {
				m := refPattern.FindStringSubmatchIndex(rest)
				bare := barePattern.FindStringSubmatchIndex(rest)
				if m == nil && (bare == nil || file == "") {
					break
				}
				var fn, sub string
				if file == "" && bare != nil && (m == nil || bare[0] < m[0]) {
					rest = rest[bare[1]:] // a bare name before any file: prose, not a reference
					continue
				}
				if m != nil && (bare == nil || m[0] <= bare[0]) {
					file, fn = rest[m[2]:m[3]], rest[m[4]:m[5]]
					if m[6] >= 0 {
						sub = rest[m[6]+1 : m[7]]
					}
					rest = rest[m[1]:]
				} else {
					fn = rest[bare[2]:bare[3]]
					if bare[4] >= 0 {
						sub = rest[bare[4]+1 : bare[5]]
					}
					rest = rest[bare[1]:]
				}
				checked++
				where := doc + ":" + strconv.Itoa(n+1)
				src, err := os.ReadFile(filepath.Join("..", expand(file)))
				if err != nil {
					t.Errorf("%s names %s, which does not exist", where, file)
					continue
				}
				if !regexp.MustCompile(`func ` + fn + `\(`).Match(src) {
					t.Errorf("%s names %s:%s, which the file does not define", where, file, fn)
					continue
				}
				if sub != "" && !strings.Contains(string(src), sub) {
					t.Errorf("%s names subtest %q of %s:%s, which does not appear in the file", where, sub, file, fn)
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d references found; the pattern no longer reads the documents", checked)
	}
	t.Logf("%d references checked", checked)
}

func expand(file string) string {
	for short, long := range abbreviations {
		if strings.HasPrefix(file, short) {
			return long + strings.TrimPrefix(file, short)
		}
	}
	return file
}
