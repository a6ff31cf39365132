package clients

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startMLflow runs `mlflow server` with a SQLite store in a temporary
// directory on loopback and returns its port.
func startMLflow(t *testing.T) int {
	t.Helper()
	py := python(t)
	dir := t.TempDir()
	p := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(filepath.Dir(py), "mlflow"), "server",
		"--backend-store-uri", "sqlite:///"+filepath.Join(dir, "mlflow.db"),
		"--default-artifact-root", filepath.Join(dir, "artifacts"),
		"--host", "127.0.0.1", "--port", fmt.Sprint(p), "--workers", "1",
		"--allowed-hosts", "127.0.0.1:*,localhost:*")
	cmd.Dir = dir
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("mlflow server log:\n%s", b)
		}
	})
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/health", p), nil)
	return p
}

func writePyproject(t *testing.T, dir, uri, issuer string, useIDToken bool) {
	t.Helper()
	conf := fmt.Sprintf(`[[tool.mlflow-oidc-client.tracking-servers]]
uri = %q
issuer = %q
client-id = "cc-client"
client-secret = "cc-secret"
scope = "score"
use-id-token = %v
`, uri, issuer, useIDToken)
	if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMLflowWithOIDCClient(t *testing.T) {
	const aud = "api://mlflow"
	op := startProvider(t, aud)
	mlflowPort := startMLflow(t)
	cfg := `{
  "realm": "mlflow",
  "providers": {
    "op": {"issuer": "` + op.Issuer + `", "audiences": ["` + aud + `", "cc-client"], "jwks": ` + string(op.JWKS(t)) + `}
  },
  "rules": [
    {"match": {"prefix": "/health"}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["op"]}}
  ]
}`
	base := startEnvoy(t, cfg, mlflowPort)

	withClient := t.TempDir()
	writePyproject(t, withClient, base, op.Issuer, false)
	env := append(op.pyEnv(), "MLFLOW_TRACKING_URI="+base, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0")

	t.Run("mlflow experiments search succeeds with the client's access token", func(t *testing.T) {
		start := time.Now()
		out, err := runPy(t, withClient, env, "", "-m", "mlflow", "experiments", "search")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "Default") {
			t.Fatalf("experiments search printed %q, want the Default experiment", out)
		}
		t.Logf("experiments search: %v", time.Since(start).Round(time.Millisecond))
	})
	t.Run("a run's params and metrics round-trip through the proxy", func(t *testing.T) {
		start := time.Now()
		out, err := runPy(t, withClient, env, "", script(t, "mlflow_roundtrip.py"), "through-tokengate")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			RunID   string             `json:"run_id"`
			Params  map[string]string  `json:"params"`
			Metrics map[string]float64 `json:"metrics"`
		}
		// mlflow prints "View run" lines before the script's JSON.
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
			t.Fatalf("mlflow_roundtrip.py printed %q: %v", out, err)
		}
		if got.RunID == "" || got.Params["learning_rate"] != "0.01" || got.Params["depth"] != "6" || got.Metrics["loss"] != 0.25 {
			t.Fatalf("read back %+v", got)
		}
		t.Logf("experiment + run round trip: %v", time.Since(start).Round(time.Millisecond))
	})
	t.Run("without the client's configuration the server answers 401", func(t *testing.T) {
		bare := t.TempDir()
		_, err := runPy(t, bare, env, "", "-m", "mlflow", "experiments", "search")
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("want a 401 failure, got %v", err)
		}
		r := do(t, "GET", base+"/api/2.0/mlflow/experiments/search?max_results=1", "", "")
		if r.status != 401 || !strings.HasPrefix(r.wwwAuth, `Bearer realm="mlflow"`) {
			t.Fatalf("got %d %q", r.status, r.wwwAuth)
		}
	})
}
