package host

import (
	"os"
	"strings"
	"testing"
)

func TestImportsAreExactlyEnvoysList(t *testing.T) {
	b, err := os.ReadFile("testdata/host-imports.tsv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
	if len(lines) != len(imports) {
		t.Fatalf("the host links %d functions, host-imports.tsv lists %d", len(imports), len(lines))
	}
	for i, line := range lines {
		f := strings.Split(line, "\t")
		want := importSpec{f[0], f[1], f[2], f[3]}
		if imports[i] != want {
			t.Errorf("import %d is %+v, want %+v", i, imports[i], want)
		}
	}
}
