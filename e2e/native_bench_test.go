package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// BenchmarkNativeModuleAgainstJWTAuthn runs Envoy 1.40 (one worker each)
// with no authentication, with jwt_authn, with the Wasm filter and with the
// native module side by side, in interleaved rounds, warm (one token, served
// from each verifier's cache) and cold (a new token for every request, the
// caches too small to help), and reports requests/s and Envoy CPU per
// request of each, and the native module's ratios to jwt_authn:
//
//	TOKENGATE_ENVOY=.venv/bin/envoy go test -run '^$' -bench NativeModuleAgainstJWTAuthn -benchtime 1x ./e2e/
//
// The numbers are only comparable within one run: the load generator shares
// the machine with Envoy.
func BenchmarkNativeModuleAgainstJWTAuthn(b *testing.B) {
	bin := envoytest.Binary(b)
	const (
		aud       = "api://bench"
		cacheSize = 100
		pool      = 2000
		conns     = 8
		rounds    = 3
		round     = 3 * time.Second
	)
	idp, err := issuer.New("https://idp.bench/realms/ml", issuer.RS256)
	if err != nil {
		b.Fatal(err)
	}
	warm, cold := make([]string, 1), make([]string, pool)
	for i := -1; i < pool; i++ {
		tok, err := idp.Mint(issuer.Claims{"aud": aud, "sub": "user-" + strconv.Itoa(i), "jti": strconv.Itoa(i)}, issuer.WithTTL(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if i < 0 {
			warm[0] = "Bearer " + tok
		} else {
			cold[i] = "Bearer " + tok
		}
	}
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = up.Serve(l) }()
	b.Cleanup(func() { _ = up.Close() })
	upPort := l.Addr().(*net.TCPAddr).Port
	cfg := `{"realm": "bench", "cache_size": ` + strconv.Itoa(cacheSize) + `,
  "providers": {"corp": {"issuer": "` + idp.URL + `", "audiences": ["` + aud + `"], "jwks": ` + string(idp.JWKS()) + `,
    "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}},
  "rules": [{"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}]}`

	type variant struct {
		name string
		yaml func(admin, listen int) ([]byte, error)
		env  []string
		url  string
		pid  int
	}
	soDir := nativeModuleDir(b)
	variants := []*variant{
		{name: "no auth", yaml: func(a, l int) ([]byte, error) {
			return envoy.RenderNoAuth(envoy.Bootstrap{AdminPort: a, ListenPort: l, UpstreamPort: upPort})
		}},
		{name: "jwt_authn", yaml: func(a, l int) ([]byte, error) {
			return envoy.RenderJWTAuthn(envoy.JWTAuthn{AdminPort: a, ListenPort: l, UpstreamPort: upPort, Issuer: idp.URL,
				Audiences: []string{aud}, JWKS: string(idp.JWKS()), Claim: "sub", ClaimHeader: "x-user", CacheSize: cacheSize})
		}},
		{name: "tokengate wasm", yaml: func(a, l int) ([]byte, error) {
			return envoy.Render(envoy.Bootstrap{AdminPort: a, ListenPort: l, UpstreamPort: upPort, WasmPath: wasmbuild.Path(b),
				PluginConfig: cfg, FailurePolicy: "FAIL_CLOSED"})
		}},
		{name: "tokengate native", env: append([]string{"ENVOY_DYNAMIC_MODULES_SEARCH_PATH=" + soDir}, strings.Fields(os.Getenv("TOKENGATE_NATIVE_BENCH_ENV"))...), yaml: func(a, l int) ([]byte, error) {
			return envoy.RenderNative(envoy.Native{AdminPort: a, ListenPort: l, UpstreamPort: upPort, PluginConfig: cfg})
		}},
	}
	if only := os.Getenv("TOKENGATE_BENCH_ONLY"); only != "" {
		var keep []*variant
		for _, v := range variants {
			if strings.Contains(only, v.name) {
				keep = append(keep, v)
			}
		}
		variants = keep
	}
	dir := b.TempDir()
	for i, v := range variants {
		admin, listen := envoytest.FreePort(b), envoytest.FreePort(b)
		y, err := v.yaml(admin, listen)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, strconv.Itoa(i)+".yaml")
		if err := os.WriteFile(path, y, 0o600); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", path, "--concurrency", "1", "--disable-hot-restart", "-l", "warning",
			"--log-path", filepath.Join(dir, strconv.Itoa(i)+".log"))
		cmd.Env = append(os.Environ(), v.env...)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		v.pid, v.url = cmd.Process.Pid, "http://127.0.0.1:"+strconv.Itoa(listen)+"/v1/score"
		deadline := time.Now().Add(3 * time.Minute)
		for {
			if code, _ := send(http.DefaultClient, v.url, warm[0]); code == 200 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: envoy did not answer 200 within 3 minutes", v.name)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	type total struct {
		reqs int64
		secs float64
		cpu  float64 // Envoy CPU seconds
	}
	results := map[string]*total{}
	for _, scenario := range []struct {
		name   string
		tokens []string
	}{{"warm", warm}, {"cold", cold}} {
		for _, v := range variants { // warm-up, unmeasured
			load(b, v.url, scenario.tokens, conns, time.Second)
		}
		for r := 0; r < rounds; r++ {
			for _, v := range variants {
				key := v.name + ", " + scenario.name
				if results[key] == nil {
					results[key] = &total{}
				}
				cpu0 := cpuSeconds(b, v.pid)
				start := time.Now()
				n := load(b, v.url, scenario.tokens, conns, round)
				results[key].secs += time.Since(start).Seconds()
				results[key].cpu += cpuSeconds(b, v.pid) - cpu0
				results[key].reqs += n
			}
		}
	}
	var report strings.Builder
	report.WriteString("\n| variant | requests/s | Envoy CPU per request |\n| --- | ---: | ---: |\n")
	rate := map[string]float64{}
	for _, scenario := range []string{"warm", "cold"} {
		for _, v := range variants {
			key := v.name + ", " + scenario
			t := results[key]
			rate[key] = float64(t.reqs) / t.secs
			fmt.Fprintf(&report, "| %s | %.0f | %.0f µs |\n", key, rate[key], t.cpu/float64(t.reqs)*1e6)
		}
	}
	for _, scenario := range []string{"warm", "cold"} {
		ratio := rate["tokengate native, "+scenario] / rate["jwt_authn, "+scenario]
		fmt.Fprintf(&report, "native / jwt_authn, %s: %.2f×\n", scenario, ratio)
		b.ReportMetric(ratio, "native/jwt_authn-"+scenario)
	}
	fmt.Print(report.String()) // b.Log would truncate the table
}

// load sends requests with the tokens round-robin over conns keep-alive
// connections for d, and returns how many were answered 200. Any other
// answer fails the benchmark: a refusal is not a measurement.
func load(b *testing.B, url string, tokens []string, conns int, d time.Duration) int64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var n, next, bad atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				code, err := send(client, url, tokens[int(next.Add(1))%len(tokens)])
				switch {
				case err != nil && ctx.Err() != nil:
				case code != 200:
					bad.Add(1)
				default:
					n.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() > 0 {
		b.Fatalf("%s: %d requests were not answered 200", url, bad.Load())
	}
	return n.Load()
}

func send(client *http.Client, url, authorization string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", authorization)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// cpuSeconds is the user+system CPU time of process pid so far.
func cpuSeconds(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatalf("reading the CPU time of envoy: %v", err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks (USER_HZ is 100 on Linux)
}
