package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"
)

func TestMain(m *testing.M) {
	logrus.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// startRegistry serves a distribution registry with in-memory storage on
// loopback and returns its host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &configuration.Configuration{Storage: configuration.Storage{
		"inmemory":    configuration.Parameters{},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
	}}
	srv := httptest.NewServer(handlers.NewApp(ctx, cfg))
	t.Cleanup(func() { srv.Close(); cancel() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// writeModule writes a small valid module with a custom section and returns
// its path and bytes.
func writeModule(t *testing.T, payload string) (string, []byte) {
	t.Helper()
	name := "t"
	body := append([]byte{byte(len(name))}, name...)
	body = append(body, payload...)
	if len(body) > 127 {
		t.Fatal("payload too long for a one-byte section size")
	}
	m := append([]byte("\x00asm\x01\x00\x00\x00\x00"), byte(len(body)))
	m = append(m, body...)
	path := filepath.Join(t.TempDir(), "tokengate.wasm")
	if err := os.WriteFile(path, m, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, m
}

type result struct {
	code           int
	stdout, stderr string
}

func wasmOCI(env map[string]string, args ...string) result {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return result{code, out.String(), errb.String()}
}

var digestLine = regexp.MustCompile(`^sha256:[a-f0-9]{64}\n`)

func TestPushPullAndInspectFromTheCommandLine(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t)
	file, module := writeModule(t, "command line")
	for _, format := range []string{"compat", "oci", "wasm"} {
		t.Run("the "+format+" format goes out and comes back", func(t *testing.T) {
			ref := reg + "/tokengate/" + format + ":v1"
			r := wasmOCI(nil, "push", "--file", file, "--format", format, "--version", "v1", "--created", "2026-01-02T03:04:05Z", ref)
			if r.code != 0 || !digestLine.MatchString(r.stdout) {
				t.Fatalf("push: code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			digest := strings.TrimSpace(r.stdout)

			out := filepath.Join(t.TempDir(), "pulled.wasm")
			r = wasmOCI(nil, "pull", "-o", out, "--digest", digest, ref)
			if r.code != 0 {
				t.Fatalf("pull: code %d, stderr %q", r.code, r.stderr)
			}
			got, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(got, module) {
				t.Fatalf("pulled module differs (%v)", err)
			}

			r = wasmOCI(nil, "inspect", ref)
			for _, want := range []string{"format:          " + format, "manifest digest: " + digest, "module sha256:   " + sha256Hex(module), `"schemaVersion": 2`} {
				if r.code != 0 || !strings.Contains(r.stdout, want) {
					t.Fatalf("inspect output lacks %q: code %d\n%s%s", want, r.code, r.stdout, r.stderr)
				}
			}
		})
	}
}

func TestTheCommandRefusesMismatchedDigests(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t)
	file, _ := writeModule(t, "refusals")
	ref := reg + "/tokengate/m:v1"
	r := wasmOCI(nil, "push", "--file", file, ref)
	if r.code != 0 {
		t.Fatalf("push: %q", r.stderr)
	}
	wrong := "sha256:" + strings.Repeat("0", 64)

	t.Run("pull with a pinned digest that differs writes nothing", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "pulled.wasm")
		r := wasmOCI(nil, "pull", "-o", out, "--digest", wrong, ref)
		if r.code != 1 || !strings.Contains(r.stderr, "digest mismatch") {
			t.Fatalf("code %d, stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("the module was written: %v", err)
		}
	})
	t.Run("push refuses a build whose digest is not the expected one", func(t *testing.T) {
		for _, extra := range [][]string{{"--dry-run"}, nil} {
			args := append([]string{"push", "--file", file, "--expect-digest", wrong}, extra...)
			r := wasmOCI(nil, append(args, reg+"/tokengate/other:v1")...)
			if r.code != 1 || !strings.Contains(r.stderr, "digest mismatch") {
				t.Fatalf("%v: code %d, stderr %q", extra, r.code, r.stderr)
			}
		}
	})
}

func TestTheDigestDependsOnlyOnTheInputs(t *testing.T) {
	t.Parallel()
	file, _ := writeModule(t, "reproducible")
	push := func(env map[string]string, extra ...string) string {
		t.Helper()
		r := wasmOCI(env, append([]string{"push", "--dry-run", "--file", file, "--version", "v1", "--revision", "abc"}, append(extra, "example.com/t:v1")...)...)
		if r.code != 0 {
			t.Fatalf("push --dry-run %v: %q", extra, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	base := push(nil, "--created", "2026-01-02T03:04:05Z")
	tests := []struct {
		name  string
		env   map[string]string
		extra []string
		same  bool
	}{
		{"the same flags give the same digest", nil, []string{"--created", "2026-01-02T03:04:05Z"}, true},
		{"--source-date-epoch names the same instant", nil, []string{"--source-date-epoch", "1767323045"}, true},
		{"$SOURCE_DATE_EPOCH is read when no flag is given", map[string]string{"SOURCE_DATE_EPOCH": "1767323045"}, nil, true},
		{"another commit time gives another digest", nil, []string{"--source-date-epoch", "1767323046"}, false},
		{"no time at all gives another digest", nil, nil, false},
		{"another format gives another digest", nil, []string{"--created", "2026-01-02T03:04:05Z", "--format", "oci"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := push(tt.env, tt.extra...); (got == base) != tt.same {
				t.Fatalf("digest %s vs %s, want same=%v", got, base, tt.same)
			}
		})
	}
}

// TestTwoSeparateBuildsGiveOneDigest runs the compiled command in two
// processes, as two CI jobs would, and compares what they print.
func TestTwoSeparateBuildsGiveOneDigest(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "wasm-oci")
	if out, err := exec.Command("go", "build", "-buildvcs=false", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	file, _ := writeModule(t, "two processes")
	for _, format := range []string{"compat", "oci", "wasm"} {
		var digests []string
		for range 2 {
			cmd := exec.Command(bin, "push", "--dry-run", "--format", format, "--file", file, "--source-date-epoch", "1767323045", "example.com/t:v1")
			cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			digests = append(digests, string(out))
		}
		if digests[0] != digests[1] || !digestLine.MatchString(digests[0]) {
			t.Fatalf("%s: two processes printed %q and %q", format, digests[0], digests[1])
		}
	}
}

func TestSnippetPrintsTheWasmPluginForADigest(t *testing.T) {
	t.Parallel()
	digestHex := strings.Repeat("5a", 32)
	cfg := filepath.Join(t.TempDir(), "cfg.json")
	if err := os.WriteFile(cfg, []byte(`{"realm":"scoring","providers":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := wasmOCI(nil, "snippet", "--image", "ghcr.io/acme/tokengate:v1", "--digest", "sha256:"+digestHex,
		"--plugin-config", cfg, "--selector", "app=scoring", "--namespace", "models")
	for _, want := range []string{`url: "oci://ghcr.io/acme/tokengate:v1"`, `sha256: "` + digestHex + `"`, `"realm": "scoring"`, `"app": "scoring"`, `namespace: "models"`, "phase: AUTHN", "failStrategy: FAIL_CLOSE"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Fatalf("snippet lacks %q: code %d\n%s%s", want, r.code, r.stdout, r.stderr)
		}
	}
}

func TestPushPrintsTheWasmPluginWhenAsked(t *testing.T) {
	t.Parallel()
	reg := startRegistry(t)
	file, _ := writeModule(t, "print")
	ref := reg + "/tokengate/p:v1"
	r := wasmOCI(nil, "push", "--file", file, "--print-wasmplugin", ref)
	if r.code != 0 || !digestLine.MatchString(r.stdout) {
		t.Fatalf("code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	digest := strings.TrimPrefix(strings.SplitN(r.stdout, "\n", 2)[0], "sha256:")
	for _, want := range []string{"kind: WasmPlugin", `url: "oci://` + ref + `"`, `sha256: "` + digest + `"`} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command prints the usage", nil, 2, "Usage:"},
		{"an unknown command is a usage error", []string{"publish"}, 2, "unknown command"},
		{"--help documents the flags of push", []string{"push", "--help"}, 0, "-source-date-epoch"},
		{"--help documents the flags of pull", []string{"pull", "--help"}, 0, "-digest"},
		{"push without a reference is a usage error", []string{"push"}, 2, "exactly one image reference"},
		{"pull without -o is a usage error", []string{"pull", "example.com/t:v1"}, 2, "-o FILE is required"},
		{"snippet without a digest is a usage error", []string{"snippet", "--image", "x/y:v1"}, 2, "required"},
		{"an unknown format is refused", []string{"push", "--format", "docker", "--dry-run", "x/y:v1"}, 1, "unknown format"},
		{"a missing module says how to build it", []string{"push", "--file", "/nonexistent/tokengate.wasm", "x/y:v1"}, 1, "make wasm"},
		{"both time flags are refused", []string{"push", "--created", "2026-01-02T03:04:05Z", "--source-date-epoch", "1", "x/y:v1"}, 1, "not both"},
		{"a malformed time is refused", []string{"push", "--created", "yesterday", "x/y:v1"}, 1, "RFC 3339"},
		{"a snippet with a bad digest is refused", []string{"snippet", "--image", "x/y:v1", "--digest", "sha256:abc"}, 1, "not a manifest digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wasmOCI(nil, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Fatalf("code %d (want %d), output lacks %q:\n%s%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
		})
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
