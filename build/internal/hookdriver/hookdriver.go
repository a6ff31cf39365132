// Package hookdriver measures an Envoy dynamic module's request hook
// outside Envoy. A small C program (c/driver.c) loads the library, answers
// Envoy's callbacks with one fixed GET request, and calls the request
// headers hook from a thread of its own, as an Envoy worker does: back to
// back, or with a pause between calls. It reports the time per call inside
// the hook and the process's CPU per call, every thread included, which is
// where a runtime's background work shows (RATIONALE.md, "Why does the
// native module yield to the Go scheduler every 5 ms?").
//
//	TOKENGATE_NATIVE=build/out/libtokengate.so go test -run '^$' -bench NativeHook ./build/internal/hookdriver/
package hookdriver

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tokengate/tokengate/build/internal/cc"
)

//go:embed c/driver.c
var source []byte

// Build compiles the driver into dir and returns its path.
func Build(dir string) (string, error) {
	return cc.Compile(dir, "driver.c", source, "driver", []string{"-O2", "-rdynamic"}, []string{"-ldl", "-lpthread"})
}

// Result is one run of the driver.
type Result struct {
	Calls     int
	Wall      time.Duration // per call, pauses included
	Hook      time.Duration // per call, inside the hook
	CPU       time.Duration // per call, the whole process
	Sets      int           // header changes the module asked for, in all
	Clears    int           // route cache clears
	Responses int           // local responses (refusals)
}

// Run runs driver on the module library with the filter configuration and
// the Authorization value of the fixed request, for calls calls, pausing gap
// before each.
func Run(driver, library, config, authorization string, calls int, gap time.Duration) (Result, error) {
	dir, err := os.MkdirTemp("", "hookdriver-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	cfg, auth := filepath.Join(dir, "config.json"), filepath.Join(dir, "authorization")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(auth, []byte(authorization), 0o600); err != nil {
		return Result{}, err
	}
	out, err := exec.Command(driver, library, cfg, auth, strconv.Itoa(calls), strconv.FormatInt(gap.Microseconds(), 10)).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return Result{}, fmt.Errorf("hookdriver: the driver failed: %w: %s", err, ee.Stderr)
		}
		return Result{}, fmt.Errorf("hookdriver: running the driver: %w", err)
	}
	var r Result
	var wall, hook, cpu float64
	if _, err := fmt.Sscanf(string(out), "calls %d wall_ns %g hook_ns %g cpu_ns %g sets %d clears %d responses %d",
		&r.Calls, &wall, &hook, &cpu, &r.Sets, &r.Clears, &r.Responses); err != nil {
		return Result{}, fmt.Errorf("hookdriver: unexpected driver output %q: %w", out, err)
	}
	r.Wall, r.Hook, r.CPU = time.Duration(wall), time.Duration(hook), time.Duration(cpu)
	return r, nil
}
