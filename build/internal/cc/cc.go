// Package cc compiles the small C programs and libraries the benchmarks
// build on the fly (the native floor module, the hook driver), with $CC or
// else cc, so that each has one place that finds and runs the compiler.
package cc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
)

// Compile writes source to dir/name and compiles it into dir/out with the
// flags before the source and the libraries after it, and returns the path
// of what it built.
func Compile(dir, name string, source []byte, out string, flags, libs []string) (string, error) {
	compiler := os.Getenv("CC")
	if compiler == "" {
		compiler = "cc"
	}
	src := filepath.Join(dir, name)
	if err := os.WriteFile(src, source, 0o600); err != nil {
		return "", err
	}
	target := filepath.Join(dir, out)
	args := append(append(append([]string{}, flags...), "-o", target, src), libs...)
	if b, err := exec.Command(compiler, args...).CombinedOutput(); err != nil {
		return "", errors.New("cc: compiling " + name + " with " + compiler + " failed (install a C compiler, or set CC): " +
			err.Error() + "\n" + string(b))
	}
	return target, nil
}
