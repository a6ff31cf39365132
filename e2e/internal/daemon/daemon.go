// Package daemon runs tokengate's own commands (tokengate-proxy, the
// jwksfetch daemon) for end-to-end tests the way users run them: built from
// this source tree, started as processes with flags, and judged by what they
// answer. It also starts the deployment the docs describe for Envoy: the
// jwksfetch daemon pushing the filter over ECDS into an Envoy rendered from
// build/envoy.
//
//	bin := daemon.Command(t, daemon.Proxy)
//	p := daemon.Start(t, "tokengate-proxy", bin, "--plugin", wasm, ...)
//	p.WaitOK(t, "http://"+admin+"/readyz", time.Minute)
//
//	f := daemon.StartFetcher(t, cfg, daemon.FetcherOptions{})
//	e, url := f.StartEnvoy(t, upstreamPort)
package daemon

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// The commands Command builds, as packages of the repository's main module.
const (
	Proxy     = "./host/cmd/tokengate-proxy"
	JWKSFetch = "./jwksfetch/cmd/jwksfetch"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Command builds the main package pkg of the repository's main module once
// per test process and returns the binary's path. The binaries live in the
// user's cache directory (one per package, replaced by each build), so no
// test leaves a temporary directory behind.
func Command(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := built[pkg]; ok {
		return bin
	}
	root, err := wasmbuild.ModuleRoot()
	if err != nil {
		t.Fatalf("finding the repository root: %v", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "tokengate-e2e", "bin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Build under a name of this process, then rename: another test binary
	// may be running the previous build right now.
	bin := filepath.Join(dir, filepath.Base(pkg))
	tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	built[pkg] = bin
	return bin
}

// Process is a command started for one test. It is interrupted when the
// test ends (killed after 10 s), and killed by the kernel if the test
// process dies first.
type Process struct {
	name string
	log  string // file with its stdout and stderr
	done chan struct{}
}

// Start runs bin with args; name labels its log in failures.
func Start(t testing.TB, name, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = cmd.Wait(); out.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, Tail(p.Output(), 60))
		}
	})
	return p
}

// Output is everything the process has written so far.
func (p *Process) Output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitOK polls url until it answers 200, failing the test after timeout or
// as soon as the process exits.
func (p *Process) WaitOK(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		if p.Exited() {
			t.Fatalf("%s exited:\n%s", p.name, Tail(p.Output(), 40))
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s did not answer 200 within %v (last: %v)\n%s", p.name, url, timeout, err, Tail(p.Output(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WaitListening waits until addr accepts TCP connections, failing the test
// after timeout or as soon as the process exits.
func (p *Process) WaitListening(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if p.Exited() {
			t.Fatalf("%s exited during start-up:\n%s", p.name, Tail(p.Output(), 40))
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections on %s within %v\n%s", p.name, addr, timeout, Tail(p.Output(), 40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
