package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// keyServer serves a JWK Set with one fresh ES256 key and counts requests.
func keyServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	k, err := issuer.NewKey(issuer.ES256, "k1")
	if err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(k.JWK())
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		fmt.Fprintf(w, `{"keys":[%s]}`, jwk)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunOnceWritesTheRenderedConfiguration(t *testing.T) {
	t.Parallel()
	srv, _ := keyServer(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "cfg.json", fmt.Sprintf(`{"providers":{"corp":{"issuer":"x","jwks_uri":%q}}}`, srv.URL))
	out := filepath.Join(dir, "out.json")
	if err := run(context.Background(), []string{"--config", cfg, "--once", "--out", out}, quiet, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(got), `"kid":"k1"`) {
		t.Fatalf("out = %s, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

// TestRunOnceWritesOwnerOnly: the rendered configuration may hold
// passphrases, so --out is 0600 whether it is new or replaces a 0644 file.
func TestRunOnceWritesOwnerOnly(t *testing.T) {
	t.Parallel()
	srv, _ := keyServer(t)
	tests := []struct {
		name     string
		existing os.FileMode // 0: --out does not exist yet
	}{
		{name: "a new --out file is 0600"},
		{name: "a 0644 --out file is replaced by a 0600 one", existing: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := writeFile(t, dir, "cfg.json", fmt.Sprintf(`{"providers":{"corp":{"issuer":"x","jwks_uri":%q},`+
				`"jobs":{"type":"passphrase","passphrase":"correct horse battery staple"}}}`, srv.URL))
			out := filepath.Join(dir, "out.json")
			if tt.existing != 0 {
				writeFile(t, dir, "out.json", "{}")
				if err := os.Chmod(out, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := run(context.Background(), []string{"--config", cfg, "--once", "--out", out}, quiet, nil); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("--out has mode %v, want 0600", fi.Mode().Perm())
			}
			if got, _ := os.ReadFile(out); !strings.Contains(string(got), "correct horse") {
				t.Fatalf("the test's premise fails: no passphrase in %s", got)
			}
		})
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []refusal{
		{name: "a missing config is refused", args: []string{"--once"}, want: "--config"},
		{name: "once without out is refused", args: []string{"--config", "c", "--once"}, want: "--out"},
		{name: "no sink is refused", args: []string{"--config", "c"}, want: "no sink"},
		{name: "a sink without a template is refused", args: []string{"--config", "c", "--xds-listen", "127.0.0.1:0"}, want: "--wasm-template"},
		{name: "once with a long-running sink is refused", args: []string{"--config", "c", "--once", "--out", "o", "--ecds-file", "e"}, want: "drop"},
	}
	refused(t, tests)
}

func TestRunServesSinksAndAdmin(t *testing.T) {
	t.Parallel()
	srv, fetches := keyServer(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "cfg.json", fmt.Sprintf(`{"providers":{"corp":{"issuer":"x","jwks_uri":%q}}}`, srv.URL))
	tmpl := writeFile(t, dir, "wasm.json", `{"name":"tokengate","root_id":"tokengate","vm_config":{"runtime":"envoy.wasm.runtime.v8","code":{"local":{"filename":"/x.wasm"}}}}`)
	ecdsFile := filepath.Join(dir, "ecds.json")

	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--config", cfg, "--wasm-template", tmpl, "--ecds-file", ecdsFile,
			"--xds-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}, quiet,
			func(admin, _ string) { addrs <- admin })
	}()
	admin := "http://" + <-addrs

	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(ecdsFile)
		if err == nil && strings.Contains(string(data), `k1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ECDS file was not written: %s %v", data, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, admin+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	checks := []struct {
		name, method, path string
		status             int
		body               string
	}{
		{name: "healthz answers ok", method: "GET", path: "/healthz", status: 200, body: "ok"},
		{name: "readyz answers ready once keys are in", method: "GET", path: "/readyz", status: 200, body: "ready"},
		{name: "metrics show the key count", method: "GET", path: "/metrics", status: 200, body: `jwksfetch_keys{provider="corp"} 1`},
		{name: "a refresh for an unknown kid answers with the key set after its fetch", method: "POST", path: "/refresh?provider=corp&kid=new", status: 200, body: `"kid":"k1"`},
		{name: "a second refresh right after is rate limited and answers with the set in force", method: "POST", path: "/refresh?provider=corp&kid=other", status: 200, body: `"kid":"k1"`},
		{name: "a refresh for a known kid answers at once", method: "POST", path: "/refresh?provider=corp&kid=k1", status: 200, body: `"keys"`},
		{name: "a refresh for an unknown provider is not found", method: "POST", path: "/refresh?provider=nope", status: 404, body: `"nope"`},
		{name: "refresh requires POST", method: "GET", path: "/refresh?provider=corp", status: 405},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			status, body := get(c.method, c.path)
			if status != c.status || !strings.Contains(body, c.body) {
				t.Fatalf("%s %s = %d %q, want %d %q", c.method, c.path, status, body, c.status, c.body)
			}
		})
	}
	for deadline := time.Now().Add(5 * time.Second); fetches.Load() < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled refresh did not fetch: %d fetches", fetches.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
}

// refusal is a command line run must refuse, and what its error mentions.
type refusal struct {
	name string
	args []string
	want string
}

// refused runs each command line and checks that it is refused as said.
func refused(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tt.args, quiet, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
