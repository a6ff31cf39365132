package backends

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/e2e/internal/daemon"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// report is what a back-end resolved, as each back-end sends it in the
// X-Resolved response header (base64url JSON).
type report struct {
	Backend     string       `json:"backend"`
	Method      string       `json:"method"`
	Path        string       `json:"path"` // the path the back-end routed on
	URI         string       `json:"uri"`  // the request target as the back-end received it
	XUser       []namedValue `json:"x_user"`
	AccessToken []string     `json:"access_token"`
	Session     []string     `json:"session"`
}

type namedValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// decodeReport reads the X-Resolved header of a back-end's answer.
func decodeReport(h http.Header) (*report, error) {
	v := h.Get("X-Resolved")
	if v == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("X-Resolved is not base64url: %w", err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("X-Resolved is not a report: %w", err)
	}
	return &r, nil
}

// backend is one running back-end, or the reason it could not be started.
type backend struct {
	name string // go, werkzeug, tomcat
	host string // the Host header that routes to it through the switch
	addr string // 127.0.0.1:port
	// unavailable says why a prerequisite is missing; the back-end's tests
	// skip, or fail under TOKENGATE_REQUIRE_E2E=1.
	unavailable string
}

func (b *backend) skipIfUnavailable(t *testing.T) {
	t.Helper()
	if b.unavailable == "" {
		return
	}
	if requireE2E() {
		t.Fatalf("%s back-end: %s (TOKENGATE_REQUIRE_E2E=1)", b.name, b.unavailable)
	}
	t.Skipf("%s back-end: %s", b.name, b.unavailable)
}

func requireE2E() bool { return os.Getenv("TOKENGATE_REQUIRE_E2E") == "1" }

// startGoBackend serves the report from a handler on http.ServeMux with the
// catch-all pattern "/", in this process. ServeMux redirects paths that
// are not clean (dot segments, repeated slashes) before the handler runs, and
// routes on r.URL.Path, which net/http has percent-decoded. Go stores header
// names canonicalised (X_User arrives as X_user); that is the name reported.
func startGoBackend(t *testing.T) *backend {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rep := report{Backend: "go", Method: r.Method, Path: r.URL.Path, URI: r.RequestURI,
			XUser: []namedValue{}, AccessToken: r.URL.Query()["access_token"], Session: []string{}}
		for name, values := range r.Header {
			if strings.ReplaceAll(strings.ToLower(name), "_", "-") == "x-user" {
				for _, v := range values {
					rep.XUser = append(rep.XUser, namedValue{name, v})
				}
			}
		}
		for _, c := range r.CookiesNamed("session") {
			rep.Session = append(rep.Session, c.Value)
		}
		body, err := json.Marshal(rep)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Resolved", base64.RawURLEncoding.EncodeToString(body))
		_, _ = w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &backend{name: "go", host: "go.backends.test", addr: ln.Addr().String()}
}

func lastBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// testdata returns the absolute path of a file under testdata.
func testdata(t *testing.T, elem ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// python returns the interpreter that has werkzeug: TOKENGATE_PYTHON, or the
// project's .venv (which `make e2e-clients` fills).
func python(t *testing.T) (string, error) {
	t.Helper()
	py := os.Getenv("TOKENGATE_PYTHON")
	if py == "" {
		root, err := wasmbuild.ModuleRoot()
		if err != nil {
			return "", fmt.Errorf("finding the module root: %w", err)
		}
		py = filepath.Join(root, ".venv", "bin", "python")
	}
	if out, err := exec.Command(py, "-c", "import werkzeug.serving").CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s cannot import werkzeug (run `make e2e-clients`): %w: %s", py, err, strings.TrimSpace(string(out)))
	}
	return py, nil
}

// startWerkzeugBackend runs testdata/werkzeug/backend.py.
func startWerkzeugBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{name: "werkzeug", host: "werkzeug.backends.test"}
	py, err := python(t)
	if err != nil {
		b.unavailable = err.Error()
		return b
	}
	port := envoytest.FreePort(t)
	b.addr = fmt.Sprintf("127.0.0.1:%d", port)
	daemon.Start(t, "werkzeug", py, testdata(t, "werkzeug", "backend.py"), fmt.Sprint(port)).WaitListening(t, b.addr, 30*time.Second)
	return b
}

// startTomcatBackend builds testdata/tomcat (once per source change, into
// the user cache directory) and runs it.
func startTomcatBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{name: "tomcat", host: "tomcat.backends.test"}
	java, err := exec.LookPath("java")
	if err != nil {
		b.unavailable = "java is not on PATH (Java 17 or later is needed)"
		return b
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		b.unavailable = "mvn is not on PATH"
		return b
	}
	out, err := buildTomcat(t)
	if err != nil {
		t.Fatalf("tomcat back-end: %v", err)
	}
	port := envoytest.FreePort(t)
	b.addr = fmt.Sprintf("127.0.0.1:%d", port)
	cp := filepath.Join(out, "classes") + string(os.PathListSeparator) + filepath.Join(out, "lib", "*")
	// C1 only and the serial collector: a short-lived JVM on two shared cores.
	daemon.Start(t, "tomcat", java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
		"-Xmx256m", "-cp", cp, "backends.Backend", fmt.Sprint(port)).WaitListening(t, b.addr, 90*time.Second)
	return b
}

// buildTomcat compiles testdata/tomcat with Maven into a cache directory
// named after the hash of its sources, so that unchanged sources are built
// once. It tries offline first (everything cached in ~/.m2) and online after.
func buildTomcat(t *testing.T) (string, error) {
	t.Helper()
	src := testdata(t, "tomcat")
	h := sha256.New()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if strings.HasPrefix(rel, "target") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", rel, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", src, err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the Tomcat build: %w", err)
	}
	out := filepath.Join(cache, "tokengate-e2e", "tomcat-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(filepath.Join(out, "classes", "backends", "Backend.class")); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	// Build beside the final directory and rename, so that a concurrent run
	// never sees half a build.
	tmp, err := os.MkdirTemp(filepath.Dir(out), "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	mvn := func(extra ...string) ([]byte, error) {
		args := append([]string{"-q", "-B"}, extra...)
		args = append(args, "-f", filepath.Join(src, "pom.xml"), "package", "-Dbackends.out="+tmp)
		return exec.Command("mvn", args...).CombinedOutput()
	}
	if _, err := mvn("-o"); err != nil {
		t.Log("tomcat back-end: the offline Maven build failed; building online (downloads to ~/.m2)")
		if msg, err := mvn(); err != nil {
			return "", fmt.Errorf("mvn package: %w\n%s", err, lastBytes(msg, 4096))
		}
	}
	t.Logf("tomcat back-end built in %v", time.Since(start).Round(time.Millisecond))
	if err := os.Rename(tmp, out); err != nil {
		// A concurrent run may have put the same build there first.
		if _, statErr := os.Stat(filepath.Join(out, "classes", "backends", "Backend.class")); statErr != nil {
			return "", fmt.Errorf("moving the Tomcat build into place: %w", err)
		}
	}
	return out, nil
}
