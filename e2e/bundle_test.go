package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokengate/tokengate/e2e/internal/daemon"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// The cluster Istio gives the jwksfetch Service (port 9902, namespace
// tokengate), and the host name it answers to.
const (
	istioJWKSFetchCluster = "outbound|9902||jwksfetch.tokengate.svc.cluster.local"
	istioJWKSFetchHost    = "jwksfetch.tokengate.svc.cluster.local"
)

// bundleBootstrap is Envoy as an Istio sidecar or gateway runs tokengate:
// the plugin configuration carries no keys and changes only when someone
// applies a new one (Istio delivers a WasmPlugin over ECDS; here a watched
// ECDS file, written by the test), and the jwksfetch service is an ordinary
// cluster, under the name Istio gives it. Here the cluster's endpoint is the
// "network" relay in front of the daemon.
const bundleBootstrap = `
node: {id: gateway, cluster: gateway}
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: %[1]d}}
static_resources:
  listeners:
  - name: ingress
    address: {socket_address: {address: 127.0.0.1, port_value: %[2]d}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: upstream
              domains: ["*"]
              routes: [{match: {prefix: "/"}, route: {cluster: upstream}}]
          http_filters:
          - name: tokengate
            config_discovery:
              config_source: {resource_api_version: V3, path_config_source: {path: %[5]q}}
              type_urls: ["type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm"]
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: upstream
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %[3]d}}}}]}]
  - name: %[6]q
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: %[6]q
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %[4]d}}}}]}]
`

// relay is the network between the proxies and the jwksfetch service: it
// forwards, and can tamper with bundles, replay an old one, or answer with a
// bare key set, as an attacker on that path could.
type relay struct {
	mode    atomic.Value // "pass", "tamper", "bare", "replay", "down"
	mu      sync.Mutex
	bundles [][]byte // every bundle that passed, in order
	replay  []byte
	evil    []byte       // the attacker's key set
	posts   atomic.Int64 // key refresh calls seen
}

func (r *relay) handler(daemonPort int) http.Handler {
	target, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", daemonPort))
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/tokengate-key-bundle+json" {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		switch r.mode.Load() {
		case "tamper":
			body = swapKeySet(body, r.evil)
		default:
			r.mu.Lock()
			r.bundles = append(r.bundles, bytes.Clone(body))
			r.mu.Unlock()
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mode := r.mode.Load()
		if req.Method == http.MethodPost {
			r.posts.Add(1)
		}
		if mode != "pass" {
			req.Header.Del("If-None-Match") // a 304 gives an attacker nothing to work with
		}
		switch {
		case mode == "down":
			http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
		case mode == "replay":
			r.mu.Lock()
			old := r.replay
			r.mu.Unlock()
			w.Header().Set("Content-Type", "application/tokengate-key-bundle+json")
			w.Write(old)
		case mode == "bare" && req.Method == http.MethodPost:
			// A bare key set where a bundle belongs.
			w.Header().Set("Content-Type", "application/jwk-set+json")
			w.Write(r.evil)
		default:
			proxy.ServeHTTP(w, req)
		}
	})
}

// swapKeySet replaces corp's key set in the bundle's payload with evil and
// keeps the signature, as an attacker who cannot sign would have to.
func swapKeySet(bundle, evil []byte) []byte {
	var env map[string]string
	if json.Unmarshal(bundle, &env) != nil {
		return bundle
	}
	payload, _ := base64.RawURLEncoding.DecodeString(env["payload"])
	var p struct {
		Version   json.RawMessage `json:"version"`
		IssuedAt  json.RawMessage `json:"issued_at"`
		Providers map[string]map[string]json.RawMessage
	}
	if json.Unmarshal(payload, &p) != nil || p.Providers["corp"] == nil {
		return bundle
	}
	p.Providers["corp"]["jwks"] = evil
	changed, _ := json.Marshal(map[string]any{"version": p.Version, "issued_at": p.IssuedAt, "providers": p.Providers})
	env["payload"] = base64.RawURLEncoding.EncodeToString(changed)
	out, _ := json.Marshal(env)
	return out
}

// jwksfetchDaemon is the built daemon, started and stopped by the test.
type jwksfetchDaemon struct {
	bin, cfg, key, log string // log: the file its output goes to
	port               int
	cmd                *exec.Cmd
	done               chan struct{}
}

func (d *jwksfetchDaemon) output() string {
	b, _ := os.ReadFile(d.log)
	return string(b)
}

func (d *jwksfetchDaemon) start(t *testing.T) {
	t.Helper()
	out, err := os.OpenFile(d.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(d.bin, "--config", d.cfg, "--bundle-key", d.key, "--bundle-reissue", "1s",
		"--on-demand-interval", "1s", "--admin-listen", fmt.Sprintf("127.0.0.1:%d", d.port))
	d.cmd.Stdout, d.cmd.Stderr = out, out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		out.Close()
		t.Fatal(err)
	}
	d.done = make(chan struct{})
	go func() { _ = d.cmd.Wait(); out.Close(); close(d.done) }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/bundle", d.port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jwksfetch served no bundle within 30s:\n%s", d.output())
		}
	}
}

func (d *jwksfetchDaemon) stop() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd = nil
}

// TestEnvoyTakesSignedKeyBundlesFromJWKSFetch runs the Istio deployment of
// docs/distribution.md on Envoy 1.40: a static plugin configuration that
// pins the bundle key and carries no keys, the jwksfetch daemon (the built
// binary, signing with a key made by `jwksfetch keygen`) behind the cluster
// Istio would name, and a relay standing for the network between them. It
// rotates the provider's keys with no configuration push (no request
// refused), then plays the attacker on the network (a tampered bundle, a
// bare key set, a replayed old bundle: all refused and counted, the keys in
// force kept), stops the fetcher (the last good keys serve until max_stale,
// then 503 with Retry-After) and starts it again (keys back).
func TestEnvoyTakesSignedKeyBundlesFromJWKSFetch(t *testing.T) {
	envoytest.Binary(t)
	const maxStale = 10 // seconds
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	k1 := iss.Keys[0]
	k2, err := issuer.NewKey(issuer.ES256, "k2")
	if err != nil {
		t.Fatal(err)
	}
	iss.Keys = append(iss.Keys, k2) // it can sign with both; what it publishes is below
	var published atomic.Value      // the IdP's key set
	publish := func(keys ...*issuer.Key) { published.Store((&issuer.Issuer{Keys: keys}).JWKS()) }
	publish(k1)
	idp := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(published.Load().([]byte))
	}))
	attacker, err := issuer.New(iss.URL, issuer.ES256) // the right issuer, the wrong keys
	if err != nil {
		t.Fatal(err)
	}
	attacker.Keys[0].Kid = "evil"

	bin := daemon.Command(t, daemon.JWKSFetch)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "bundle.key")
	out, err := exec.Command(bin, "keygen", "--out", keyFile).Output()
	if err != nil {
		t.Fatalf("jwksfetch keygen: %v", err)
	}
	pinned := strings.TrimSpace(string(out))

	cfg := fmt.Sprintf(`{"realm":"models",
  "bundle":{"cluster":%q,"authority":%q,"public_keys":[%q],"poll_interval_seconds":1,"max_stale_seconds":%d},
  "providers":{"corp":{"issuer":%q,"jwks_uri":"%s/certs","fetch":{"refresh_seconds":3,"refresh_min_seconds":1}}},
  "rules":[{"match":{"prefix":"/healthz"}},{"match":{"prefix":"/"},"requires":{"providers":["corp"]}}]}`,
		istioJWKSFetchCluster, istioJWKSFetchHost, pinned, maxStale, iss.URL, idp)
	cfgFile := filepath.Join(dir, "tokengate.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	fetcher := &jwksfetchDaemon{bin: bin, cfg: cfgFile, key: keyFile, log: filepath.Join(dir, "jwksfetch.log"), port: envoytest.FreePort(t)}
	fetcher.start(t)
	t.Cleanup(fetcher.stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("jwksfetch log:\n%s", daemon.Tail(fetcher.output(), 60))
		}
	})

	rl := &relay{evil: attacker.JWKS()}
	rl.mode.Store("pass")
	relayURL := newLoopbackServer(t, rl.handler(fetcher.port))
	relayPort, _ := strconv.Atoi(relayURL[strings.LastIndexByte(relayURL, ':')+1:])

	up, _ := upstream(t)
	upPort, _ := strconv.Atoi(up.URL[strings.LastIndexByte(up.URL, ':')+1:])
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	ecdsFile := filepath.Join(dir, "ecds", "tokengate.json")
	writeECDS(t, ecdsFile, "1", cfg, wasmbuild.Path(t))
	started := time.Now()
	e := envoytest.Start(t, []byte(fmt.Sprintf(bundleBootstrap, admin, listen, upPort, relayPort, ecdsFile, istioJWKSFetchCluster)), admin)
	p := &proxy{env: e, base: fmt.Sprintf("http://127.0.0.1:%d", listen)}
	p.waitListener(t)
	live := time.Since(started)
	client := &http.Client{Timeout: 10 * time.Second}
	mint := func(key *issuer.Key) string {
		tok, err := iss.Mint(issuer.Claims{"sub": "alice"}, issuer.WithKey(key.Kid))
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	tok1 := mint(k1)
	evilTok, err := attacker.Mint(issuer.Claims{"sub": "mallory"})
	if err != nil {
		t.Fatal(err)
	}
	evil := "Bearer " + evilTok
	status := func(tok string) int { return p.get(t, client, "/x", tok).status }
	// waitStatus waits until tok is answered want and returns how long it took.
	waitStatus := func(what, tok string, want int, timeout time.Duration) time.Duration {
		t.Helper()
		begin := time.Now()
		for {
			got := status(tok)
			if got == want {
				return time.Since(begin)
			}
			if time.Since(begin) > timeout {
				t.Fatalf("%s: still %d after %v, want %d; bundle metrics %v", what, got, timeout, want, e.Stats(t, "tokengate.bundle"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	stat := func(name string) int64 { return e.Stats(t, "tokengate.bundle")["wasmcustom.tokengate.bundle."+name] }
	waitStat := func(name string, above int64, timeout time.Duration) {
		t.Helper()
		for deadline := time.Now().Add(timeout); stat(name) <= above; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s stayed at %d; bundle metrics %v", name, above, e.Stats(t, "tokengate.bundle"))
			}
		}
	}

	first := waitStatus("the first bundle", tok1, 200, 30*time.Second)
	t.Logf("Envoy LIVE after %v; first token accepted %v later (each VM polls as it is configured)", live.Round(time.Millisecond), first.Round(time.Millisecond))
	// Every worker VM has its bundle: new connections land on both workers.
	for i, fresh := 0, (&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}); i < 20; i++ {
		if st := p.get(t, fresh, "/x", tok1).status; st != 200 {
			t.Fatalf("request %d on a new connection: %d; bundle metrics %v", i, st, e.Stats(t, "tokengate.bundle"))
		}
	}
	if e.LogContains("cannot send the poll", 0) {
		t.Error("a VM could not poll as it was configured")
	}

	t.Run("the provider rotates: no request is refused, no configuration is pushed", func(t *testing.T) {
		publish(k1, k2) // the provider adds k2 and signs with it at once
		tok2 := mint(k2)
		posts := rl.posts.Load()
		const clients = 4
		var (
			mu      sync.Mutex
			lat     []time.Duration
			refused = map[int]int{}
		)
		var wg sync.WaitGroup
		stopAt := time.Now().Add(2 * time.Second)
		for i := range clients + 1 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok := tok2
				if i == clients {
					tok = tok1 // one client keeps the old key
				}
				c := &http.Client{Timeout: 10 * time.Second}
				for time.Now().Before(stopAt) {
					begin := time.Now()
					st := p.get(t, c, "/x", tok).status
					mu.Lock()
					if i < clients {
						lat = append(lat, time.Since(begin))
					}
					if st != 200 {
						refused[st]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		slices.Sort(lat)
		n := len(lat)
		t.Logf("rotation: %d new-kid requests from %d clients from the first moment, refused %v; latency p50 %v, p99 %v, max %v",
			n, clients, refused, lat[n/2].Round(time.Microsecond), lat[n*99/100].Round(time.Microsecond), lat[n-1].Round(time.Microsecond))
		if len(refused) > 0 {
			t.Fatalf("refused during the rotation: %v", refused)
		}
		// The first new-kid requests came before any poll could bring k2:
		// they were paused and the key refresh answered with a bundle.
		if n := rl.posts.Load() - posts; n < 1 {
			t.Fatal("no key refresh call during the rotation: the paused-request path was not taken")
		} else {
			t.Logf("rotation: %d key refresh calls (one per VM that saw k2 first), each answered with a signed bundle", n)
		}
		publish(k2) // the provider retires k1: the fetcher's next fetch and the next poll carry it to Envoy
		took := waitStatus("the retired key", tok1, 401, 20*time.Second)
		t.Logf("retired key refused %v after the provider dropped it (fetch every 3 s, poll every 1 s)", took.Round(time.Millisecond))
	})

	tok2 := mint(k2)
	// Each attack below lasts well under max_stale: one that blocks good
	// bundles for longer freezes the keys only until max_stale (the last
	// step shows that), then the tokens get 503.
	backToPass := func() {
		t.Helper()
		installed := stat("installed")
		rl.mode.Store("pass")
		waitStat("installed", installed, 10*time.Second)
	}
	t.Run("a tampered bundle is refused; the keys in force stay", func(t *testing.T) {
		before := stat("rejected.bad_signature")
		rl.mode.Store("tamper")
		waitStat("rejected.bad_signature", before, 5*time.Second)
		if st, st2 := status(evil), status(tok2); st != 401 || st2 != 200 {
			t.Fatalf("while bundles are tampered with: the attacker's token %d (want 401), k2 %d (want 200)", st, st2)
		}
		t.Logf("tampering: %d bundles refused (bad_signature); the attacker's token 401, k2 still 200", stat("rejected.bad_signature")-before)
		backToPass()
	})

	t.Run("a bare key set for a refresh is not installed", func(t *testing.T) {
		before := stat("call_failed")
		rl.mode.Store("bare") // the polls pass; the refresh call gets the attacker's key set, unsigned
		// The attacker's token names a kid the keys lack, so it asks for a
		// refresh (one call per VM per min_interval_seconds, 10 s).
		for deadline := time.Now().Add(25 * time.Second); stat("call_failed") <= before; time.Sleep(200 * time.Millisecond) {
			if st := status(evil); st != 401 {
				t.Fatalf("the attacker's token: %d, want 401", st)
			}
			if time.Now().After(deadline) {
				t.Fatalf("no refresh call met the bare key set; bundle metrics %v", e.Stats(t, "tokengate.bundle"))
			}
		}
		if st := status(evil); st != 401 {
			t.Fatalf("the attacker's token after its refresh: %d, want 401", st)
		}
		rl.mode.Store("pass")
	})

	t.Run("an old bundle replayed is refused; the keys in force stay", func(t *testing.T) {
		rl.mu.Lock()
		rl.replay = rl.bundles[0] // the first bundle: k1 only
		rl.mu.Unlock()
		before := stat("rejected.replay")
		rl.mode.Store("replay")
		waitStat("rejected.replay", before, 5*time.Second)
		if st1, st2 := status(tok1), status(tok2); st1 != 401 || st2 != 200 {
			t.Fatalf("during the replay: k1 %d (want 401), k2 %d (want 200)", st1, st2)
		}
		t.Logf("replay: %d old bundles refused; k1 still 401, k2 still 200", stat("rejected.replay")-before)
		backToPass()
	})

	t.Run("the fetcher down: the last good keys until max_stale, then 503, then back", func(t *testing.T) {
		fetcher.stop()
		stopped := time.Now()
		for status(tok2) == 200 {
			// The bundle in force was signed before the stop (up to a reissue
			// interval, a poll and the second issued_at is rounded to), and
			// the withdrawal comes on the next tick after max_stale.
			if time.Since(stopped) > (maxStale+3)*time.Second {
				t.Fatalf("still 200 %v after the fetcher stopped; max_stale is %d s", time.Since(stopped), maxStale)
			}
			time.Sleep(100 * time.Millisecond)
		}
		served := time.Since(stopped)
		r := p.get(t, client, "/x", tok2)
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Fatalf("after max_stale: %d %v, want 503 with Retry-After", r.status, r.header)
		}
		if served < (maxStale-6)*time.Second { // see above: the bundle in force may be a few seconds old at the stop
			t.Fatalf("503 %v after the fetcher stopped; the keys must stay for max_stale (%d s) after the last bundle was issued", served, maxStale)
		}
		if !e.LogContains("are withdrawn and their tokens are answered with 503", 15*time.Second) {
			t.Error("Envoy's log does not say why the tokens get 503")
		}
		fetcher.start(t) // a restart: a new process, the same key
		back := waitStatus("after the fetcher's restart", tok2, 200, 20*time.Second)
		t.Logf("fetcher down: tokens accepted for %v (max_stale %d s), then 503; accepted again %v after the fetcher was serving again",
			served.Round(time.Millisecond), maxStale, back.Round(time.Millisecond))
	})
	t.Run("a new configuration on the same VM starts from the bundle the VM holds", func(t *testing.T) {
		// With the fetcher unreachable, the new configuration can poll nothing:
		// only the VM's last bundle can give it keys.
		waitStat("installed", stat("installed"), 10*time.Second)
		rl.mode.Store("down")
		applied := time.Now()
		writeECDS(t, ecdsFile, "2", strings.Replace(cfg, `"realm":"models"`, `"realm":"models-v2"`, 1), wasmbuild.Path(t))
		for !strings.Contains(p.get(t, client, "/x", "").header.Get("WWW-Authenticate"), `realm="models-v2"`) {
			if time.Since(applied) > 20*time.Second {
				t.Fatal("Envoy did not take the new configuration within 20s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if st := status(tok2); st != 200 {
			t.Fatalf("the new configuration, with the fetcher unreachable: %d, want 200 from the VM's bundle", st)
		}
		if !e.LogContains("from this VM's last bundle", 15*time.Second) {
			t.Error("the log does not say the new configuration started from the VM's bundle")
		}
		t.Logf("a new configuration (in force %v after it was written; Envoy first starts it in a fresh canary VM) accepted the token at once, with the fetcher unreachable",
			time.Since(applied).Round(time.Millisecond))
		rl.mode.Store("pass")
	})

	var errs []string
	for _, l := range e.WasmErrors() {
		if !strings.Contains(l, "key bundle: no good bundle for") { // the withdrawal, which this test causes
			errs = append(errs, l)
		}
	}
	if len(errs) > 0 {
		t.Fatalf("Wasm errors in Envoy's log:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("bundle metrics (both worker VMs): %v", e.Stats(t, "tokengate.bundle"))
}

// newLoopbackServer serves h on a loopback port until the test ends and
// returns its base URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + lis.Addr().String()
}

// writeECDS writes, as a watched ECDS file is updated (a new file renamed
// over the old), the tokengate filter with the plugin configuration cfg.
func writeECDS(t *testing.T, path, version, cfg, wasm string) {
	t.Helper()
	resource := map[string]any{
		"version_info": version,
		"resources": []any{map[string]any{
			"@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
			"name":  "tokengate",
			"typed_config": map[string]any{
				"@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
				"config": map[string]any{
					"name": "tokengate", "root_id": "tokengate", "failure_policy": "FAIL_CLOSED",
					"configuration": map[string]any{"@type": "type.googleapis.com/google.protobuf.StringValue", "value": cfg},
					"vm_config": map[string]any{"vm_id": "tokengate", "runtime": "envoy.wasm.runtime.v8",
						"code": map[string]any{"local": map[string]any{"filename": wasm}}},
				},
			},
		}},
	}
	data, err := json.Marshal(resource)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
