// Package mlflowtest runs a real MLflow tracking server for the end-to-end
// tests (`mlflow server` from the repository's .venv, which `make
// e2e-clients` fills), and a tap in front of it that counts what reaches it:
// the tests judge tokengate by what the upstream receives.
//
//	s := mlflowtest.Start(t, filepath.Join(root, ".venv", "bin", "mlflow"))
//	tap := mlflowtest.NewTap(t, s.Port, "__Host-tokengate")
//	// ... start a front with tap.Port as its upstream ...
//	s.Wait(t, 2*time.Minute)
package mlflowtest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Server is a running `mlflow server` on loopback.
type Server struct {
	Port   int
	exited chan struct{}
	log    string
}

// Start starts bin (the mlflow command) as a tracking server with a SQLite
// store in a temporary directory, without waiting for it (Wait does), so
// that the rest of a test starts meanwhile. The server and the processes it
// spawns form one process group, which the cleanup kills.
func Start(t testing.TB, bin string) *Server {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Port: ln.Addr().(*net.TCPAddr).Port, exited: make(chan struct{}), log: filepath.Join(dir, "server.log")}
	ln.Close()
	cmd := exec.Command(bin, "server",
		"--backend-store-uri", "sqlite:///"+filepath.Join(dir, "mlflow.db"),
		"--default-artifact-root", filepath.Join(dir, "artifacts"),
		"--host", "127.0.0.1", "--port", fmt.Sprint(s.Port), "--workers", "1",
		"--allowed-hosts", "127.0.0.1:*,localhost:*")
	cmd.Dir = dir
	// The job runner (several huey consumers) serves MLflow's GenAI jobs,
	// which tracking does not use.
	cmd.Env = append(os.Environ(), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		_ = logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(s.log)
			t.Logf("mlflow server log:\n%s", tail(string(b), 40))
		}
	})
	return s
}

// Wait returns once the server answers /health, and fails the test if it
// exits first or does not answer within timeout.
func (s *Server) Wait(t testing.TB, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/health", s.Port)); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.exited:
			b, _ := os.ReadFile(s.log)
			t.Fatalf("mlflow server exited during start-up:\n%s", tail(string(b), 40))
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("mlflow server did not answer /health within %v", timeout)
}

// ExperimentExists asks the server itself, not through any front, whether
// an experiment of that name exists.
func (s *Server) ExperimentExists(name string) bool {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s", s.Port, url.QueryEscape(name)))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Tap is a reverse proxy in front of the server that counts the requests
// that reach it: all of them, the API calls (/api/...), those that still
// carry an Authorization header, and those that carry a cookie whose name
// starts with a given prefix.
type Tap struct {
	Port                                         int // the tap's loopback port: the fronts' upstream
	Requests, API, WithAuthorization, WithCookie atomic.Int64
}

// NewTap starts a Tap in front of the server on serverPort; WithCookie
// counts the requests with a cookie named cookiePrefix... ("" counts none).
func NewTap(t testing.TB, serverPort int, cookiePrefix string) *Tap {
	t.Helper()
	target, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", serverPort))
	proxy := httputil.NewSingleHostReverseProxy(target)
	tap := &Tap{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tap.Requests.Add(1)
		if strings.HasPrefix(r.URL.Path, "/api/") {
			tap.API.Add(1)
		}
		if r.Header.Get("Authorization") != "" {
			tap.WithAuthorization.Add(1)
		}
		if cookiePrefix != "" && slices.ContainsFunc(r.Cookies(), func(c *http.Cookie) bool { return strings.HasPrefix(c.Name, cookiePrefix) }) {
			tap.WithCookie.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tap.Port = srv.Listener.Addr().(*net.TCPAddr).Port
	return tap
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
