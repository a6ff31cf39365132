package cc

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestCompile(t *testing.T) {
	if _, err := exec.LookPath("cc"); err != nil && os.Getenv("CC") == "" {
		t.Skip("no C compiler")
	}
	tests := []struct {
		name, source, err string
	}{
		{name: "a program builds", source: "int main(void) { return 0; }\n"},
		{name: "a compile error says which file and what to do", source: "int main(void) { return }\n", err: "compiling prog.c with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Compile(t.TempDir(), "prog.c", []byte(tt.source), "prog", []string{"-O2"}, nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := exec.Command(out).Run(); err != nil {
				t.Fatalf("the built program does not run: %v", err)
			}
		})
	}
}
