// Command demo shows tokengate working in under a minute: it creates a demo
// issuer (fresh keys, no network), starts a small model-scoring upstream,
// runs the real tokengate-proxy binary with the real plugin in front of it,
// and sends requests with curl-like output: one with a valid token, and the
// ones the contract refuses.
//
//	make demo                 # or: go run ./build/cmd/demo --plugin build/out/tokengate.wasm
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

func main() {
	plugin := flag.String("plugin", "build/out/tokengate.wasm", "the plugin module (make wasm builds it)")
	keep := flag.Bool("keep", false, "keep the proxy running after the requests, until Ctrl-C")
	flag.Parse()
	if err := run(*plugin, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(plugin string, keep bool) error {
	if _, err := os.Stat(plugin); err != nil {
		return fmt.Errorf("%w (run `make wasm` first)", err)
	}
	dir, err := os.MkdirTemp("", "tokengate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	iss, err := issuer.New("https://idp.demo.test/realms/ml", issuer.RS256)
	if err != nil {
		return err
	}
	up, err := startUpstream()
	if err != nil {
		return err
	}
	cfg := `{
  "realm": "models",
  "providers": {
    "corp": {"issuer": "` + iss.URL + `", "audiences": ["api://scoring"], "jwks": ` + string(iss.JWKS()) + `}
  },
  "rules": [
    {"match": {"path": "/model/sample_request", "methods": ["GET"]}},
    {"match": {"prefix": "/model/score"}, "requires": {"providers": ["corp"], "scopes": ["score"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`
	cfgPath := filepath.Join(dir, "cfg.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}

	fmt.Println("building tokengate-proxy ...")
	proxyBin := filepath.Join(dir, "tokengate-proxy")
	build := exec.Command("go", "build", "-o", proxyBin, "./host/cmd/tokengate-proxy")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building tokengate-proxy: %w", err)
	}
	listen, err := freeAddr()
	if err != nil {
		return err
	}
	admin, err := freeAddr()
	if err != nil {
		return err
	}
	args := []string{"--plugin", plugin, "--config", cfgPath, "--listen", listen, "--upstream", up, "--admin-listen", admin}
	fmt.Printf("$ tokengate-proxy %s\n", strings.Join(args, " "))
	proxy := exec.Command(proxyBin, args...)
	logs, err := os.Create(filepath.Join(dir, "proxy.log"))
	if err != nil {
		return err
	}
	proxy.Stdout, proxy.Stderr = logs, logs
	if err := proxy.Start(); err != nil {
		return err
	}
	defer func() {
		_ = proxy.Process.Signal(os.Interrupt)
		_ = proxy.Wait()
	}()
	base := "http://" + listen
	if err := waitReady("http://" + admin); err != nil {
		b, _ := os.ReadFile(logs.Name())
		return fmt.Errorf("%w\nproxy log:\n%s", err, b)
	}

	mint := func(claims issuer.Claims, opts ...issuer.MintOption) string {
		tok, err := iss.Mint(claims, opts...)
		if err != nil {
			panic(err)
		}
		return tok
	}
	good := mint(issuer.Claims{"sub": "alice", "aud": "api://scoring", "scope": "score read"})
	noScope := mint(issuer.Claims{"sub": "bob", "aud": "api://scoring", "scope": "read"})
	expired := mint(issuer.Claims{"sub": "alice", "aud": "api://scoring", "scope": "score"}, issuer.WithTTL(-time.Hour))
	body := `{"fields":["sepal_len","sepal_wid"],"rows":[["5.1","3.5"]]}`

	steps := []struct{ title, method, path, auth, body string }{
		{"a valid token: the request reaches the model", "POST", "/model/score", "Bearer " + good, body},
		{"no token: 401 with a Bearer challenge", "POST", "/model/score", "", body},
		{"an expired token: 401 invalid_token", "POST", "/model/score", "Bearer " + expired, body},
		{"a token without the \"score\" scope: 403 insufficient_scope", "POST", "/model/score", "Bearer " + noScope, body},
		{"a public route: no token needed", "GET", "/model/sample_request", "", ""},
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, s := range steps {
		fmt.Printf("\n# %s\n", s.title)
		if err := show(client, base, s.method, s.path, s.auth, s.body); err != nil {
			return err
		}
	}
	fmt.Printf("\nproxy log: %s (shown below)\n", logs.Name())
	b, _ := os.ReadFile(logs.Name())
	fmt.Print(string(b))
	if keep {
		fmt.Printf("\ntokengate-proxy is listening on %s; a valid token:\n%s\nCtrl-C to stop.\n", base, good)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		<-ctx.Done()
	}
	return nil
}

// show prints a request and its response the way `curl -i` would.
func show(client *http.Client, base, method, path, auth, body string) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("$ curl -i -X %s %s%s", method, base, path)
	if auth != "" {
		req.Header.Set("Authorization", auth)
		line += fmt.Sprintf(" -H 'Authorization: %s…'", auth[:min(len(auth), 20)])
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		line += " -d '" + body + "'"
	}
	fmt.Println(line)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("HTTP/1.1 %s\n", resp.Status)
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		if k != "Date" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("%s: %s\n", k, strings.Join(resp.Header[k], ", "))
	}
	fmt.Printf("\n%s\n", strings.TrimSpace(string(b)))
	return nil
}

// startUpstream serves a tiny model-scoring API on loopback.
func startUpstream() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /model/score", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Fields []string   `json:"fields"`
			Rows   [][]string `json:"rows"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		scores := make([][]string, len(in.Rows))
		for i := range in.Rows {
			scores[i] = []string{"0.97", "0.02", "0.01"}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "demo-model", "fields": []string{"setosa", "versicolor", "virginica"}, "score": scores,
			"upstream_saw_authorization": r.Header.Get("Authorization") != "",
		})
	})
	mux.HandleFunc("GET /model/sample_request", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"fields":["sepal_len","sepal_wid"],"rows":[["5.1","3.5"]]}`+"\n")
	})
	go func() { _ = http.Serve(l, mux) }()
	return "http://" + l.Addr().String(), nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitReady polls the proxy's admin listener (admin is its base URL) until
// /readyz answers 200.
func waitReady(admin string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("tokengate-proxy was not ready within 30s")
}
