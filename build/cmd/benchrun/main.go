// Command benchrun measures tokengate side by side with Envoy's native
// jwt_authn filter and with no authentication at all, and writes a Markdown
// report and a PNG chart (build/out/bench/report.md and chart.png).
//
// It starts a Go upstream on loopback, one Envoy per configuration (the same
// listener and route; build/envoy renders the three bootstraps) and, unless
// -short, Envoys with the floor module (build/internal/floorwasm: tokengate's
// exports and host calls for an accepted request, hand-written, no Go) and
// with a Go filter that decides nothing (testdata/noop: only
// reading the headers, the floor of any Go Proxy-Wasm filter; and also doing
// the header, clock and metric host calls tokengate makes for an accepted
// request) and tokengate-proxy in front of the same upstream. Then it runs warm
// (one RS256 token) and cold (a pool of distinct tokens larger than every
// verified-token cache) loads against each, interleaved round by round, and
// records requests/s, p50/p99 and the proxy's CPU time per request.
//
//	go run ./build/cmd/benchrun -envoy .venv/bin/envoy -wasm build/out/tokengate.wasm
//	go run ./build/cmd/benchrun -short   # about a minute; fails below the baseline
//
// -micro includes `go test -bench` output (the plugin in testhost, the host)
// in the report. With -short the run fails when a requests/s ratio falls below
// min_fraction × the ratio recorded in build/bench/baseline.json;
// -write-baseline records the ratios just measured there.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/build/internal/floornative"
	"github.com/tokengate/tokengate/build/internal/floorwasm"
	"github.com/tokengate/tokengate/build/internal/load"
	"github.com/tokengate/tokengate/internal/issuer"
)

// hostCryptoLogLine is what the plugin logs when it verifies signatures with
// Envoy's verify_signature (plugin/internal/hostverify).
const hostCryptoLogLine = "verified by the host's verify_signature"

const (
	benchIssuer   = "https://idp.bench.example"
	benchAudience = "api://bench"
)

type options struct {
	envoyBin, wasmPath, outDir, baselinePath string
	nativePath                               string
	wasmBefore, nativeBefore                 string // earlier builds to compare with, side by side
	microPath                                string
	duration, warmup                         time.Duration
	concurrency, rounds, pool, workers       int
	cacheSize                                int
	short, writeBaseline, goHost, noop       bool
	floor                                    bool
}

func main() {
	var o options
	flag.StringVar(&o.envoyBin, "envoy", defaultEnvoy(), "Envoy 1.40 `binary` (default: $TOKENGATE_ENVOY or .venv/bin/envoy)")
	flag.StringVar(&o.wasmPath, "wasm", "build/out/tokengate.wasm", "the plugin `module` (make wasm builds it)")
	flag.StringVar(&o.wasmBefore, "wasm-before", "", "an earlier plugin `module` to measure beside -wasm (variant tokengate-before)")
	flag.StringVar(&o.nativeBefore, "native-before", "", "an earlier native `module`, a libtokengate.so in a directory of its own, to measure beside -native (variant tokengate-native-before)")
	flag.StringVar(&o.nativePath, "native", "build/out/libtokengate.so", "the native Envoy `module` (make native builds it); empty: leave it out")
	flag.StringVar(&o.outDir, "out", "build/out/bench", "`directory` for report.md, chart.png and results.json")
	flag.StringVar(&o.baselinePath, "baseline", "build/bench/baseline.json", "recorded ratios `file` for the -short check")
	flag.StringVar(&o.microPath, "micro", "", "`file` of `go test -bench` output to include in the report")
	flag.DurationVar(&o.duration, "d", 5*time.Second, "duration of one measured run")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load per variant and scenario before the first round")
	flag.IntVar(&o.concurrency, "c", 8, "keep-alive connections of the load generator")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds")
	flag.IntVar(&o.pool, "pool", 2000, "distinct tokens of the cold scenario")
	flag.IntVar(&o.workers, "envoy-workers", 1, "Envoy worker threads (--concurrency)")
	flag.IntVar(&o.cacheSize, "cache", 100, "verified-token cache entries of jwt_authn and tokengate")
	flag.BoolVar(&o.goHost, "go-host", true, "also measure tokengate-proxy and the upstream directly")
	flag.BoolVar(&o.noop, "noop", true, "also measure a Go filter that decides nothing (testdata/noop), alone and with tokengate's host calls")
	flag.BoolVar(&o.floor, "floor", true, "also measure the floor modules (build/internal/floorwasm and floornative: tokengate's exports and host calls, no Go)")
	flag.BoolVar(&o.short, "short", false, "CI mode: 2 rounds of 3 s, Envoy only, and fail below the baseline")
	flag.BoolVar(&o.writeBaseline, "write-baseline", false, "record the measured Envoy ratios in -baseline")
	flag.Parse()
	if o.short {
		o.duration, o.warmup, o.rounds, o.goHost, o.noop, o.floor = 3*time.Second, 500*time.Millisecond, 2, false, false, false
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	code, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

func defaultEnvoy() string {
	if e := os.Getenv("TOKENGATE_ENVOY"); e != "" {
		return e
	}
	return ".venv/bin/envoy"
}

// target is one proxy configuration under load.
type target struct {
	variant string
	url     string
	proc    *process // nil: nothing to measure CPU of
}

func run(ctx context.Context, o options) (int, error) {
	if o.rounds < 1 || o.concurrency < 1 || o.duration <= 0 || o.pool < 2*o.cacheSize {
		return 2, errors.New("benchrun: need -rounds ≥ 1, -c ≥ 1, -d > 0 and -pool ≥ 2×-cache (the cold scenario must miss every cache)")
	}
	wasmInfo, err := os.Stat(o.wasmPath)
	if err != nil {
		return 2, errors.New("benchrun: the plugin module is missing (" + err.Error() + "); run `make wasm` first")
	}
	wasmAbs, _ := filepath.Abs(o.wasmPath)
	nativeAbs := ""
	if o.nativePath != "" {
		if _, err := os.Stat(o.nativePath); err != nil {
			return 2, errors.New("benchrun: the native module is missing (" + err.Error() + "); run `make native` first, or pass -native=''")
		}
		nativeAbs, _ = filepath.Abs(o.nativePath)
	}
	for _, before := range []*string{&o.wasmBefore, &o.nativeBefore} {
		if *before == "" {
			continue
		}
		if _, err := os.Stat(*before); err != nil {
			return 2, errors.New("benchrun: the earlier module to compare with is missing: " + err.Error())
		}
		*before, _ = filepath.Abs(*before)
	}
	envoyVersion, err := exec.Command(o.envoyBin, "--version").Output()
	if err != nil {
		return 2, errors.New("benchrun: cannot run Envoy " + o.envoyBin + " (" + err.Error() + "); run `make envoy` or set -envoy")
	}
	if err := os.MkdirAll(o.outDir, 0o755); err != nil {
		return 2, err
	}
	work, err := os.MkdirTemp("", "benchrun-")
	if err != nil {
		return 2, err
	}
	defer os.RemoveAll(work)

	logf("minting 1 warm and %d cold RS256 tokens", o.pool)
	idp, err := issuer.New(benchIssuer, issuer.RS256)
	if err != nil {
		return 2, err
	}
	warmTokens, coldTokens, err := mintTokens(idp, o.pool)
	if err != nil {
		return 2, err
	}

	up, upPort, err := startUpstream()
	if err != nil {
		return 2, err
	}
	defer up.Close()

	var procs []*process
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	pluginConfig := tokengateConfig(idp, o.cacheSize)
	targets, err := startEnvoys(o, work, upPort, wasmAbs, nativeAbs, pluginConfig, idp, &procs)
	if err != nil {
		return 2, err
	}
	if o.goHost {
		t, err := startGoHost(work, upPort, wasmAbs, pluginConfig, &procs)
		if err != nil {
			return 2, err
		}
		targets = append(targets, target{variant: direct, url: "http://127.0.0.1:" + strconv.Itoa(upPort) + "/"}, t)
	}
	for _, t := range targets {
		if t.proc == nil {
			continue
		}
		if err := t.proc.waitReady(t.url, [2]string{"Authorization", warmTokens[0]}, 200, 60*time.Second); err != nil {
			return 2, err
		}
	}

	hostCrypto := "no"
	for _, t := range targets {
		if t.variant == tokengate && strings.Contains(t.proc.log(), hostCryptoLogLine) {
			hostCrypto = "yes"
		}
	}
	scenarios := map[string][]string{warm: warmTokens, cold: coldTokens}
	measure := func(t target, sc string, d time.Duration) (sample, error) {
		var cpu0 time.Duration
		if t.proc != nil {
			if cpu0, err = cpuTime(t.proc.pid()); err != nil {
				return sample{}, err
			}
		}
		res, err := load.Run(ctx, load.Config{URL: t.url, Concurrency: o.concurrency, Duration: d, Authorizations: scenarios[sc]})
		if err != nil {
			return sample{}, err
		}
		if ctx.Err() != nil {
			return sample{}, errors.New("benchrun: interrupted")
		}
		s := sample{Variant: t.variant, Scenario: sc, Requests: res.Requests, RPS: res.RPS, P50: res.P50, P99: res.P99}
		if t.proc != nil {
			cpu1, err := cpuTime(t.proc.pid())
			if err != nil {
				return sample{}, err
			}
			if res.Requests > 0 {
				s.CPUPerReq = (cpu1 - cpu0) / time.Duration(res.Requests)
			}
		}
		// Every request carries a valid token: anything but 200 means the
		// variant is not doing the work being measured.
		if res.Errors > 0 || res.StatusCode[200] != res.Requests || res.Requests == 0 {
			return s, fmt.Errorf("benchrun: %s %s: %d requests, %d errors, status codes %v (first error: %s)",
				t.variant, sc, res.Requests, res.Errors, res.StatusCode, res.FirstError)
		}
		return s, nil
	}

	if o.warmup > 0 {
		logf("warming up")
		for _, t := range targets {
			for _, sc := range scenarioOrder {
				if _, err := measure(t, sc, o.warmup); err != nil {
					return 2, err
				}
			}
		}
	}
	var samples []sample
	for r := 1; r <= o.rounds; r++ {
		for _, sc := range scenarioOrder {
			// Rotate the order each round so no variant always runs first.
			for i := range targets {
				t := targets[(i+r-1)%len(targets)]
				s, err := measure(t, sc, o.duration)
				if err != nil {
					return 2, err
				}
				s.Round = r
				samples = append(samples, s)
				logf("round %d %-5s %-16s %7.0f req/s  p50 %6.0f µs  p99 %6.0f µs  cpu %6.1f µs/req",
					r, sc, t.variant, s.RPS, us(s.P50), us(s.P99), us(s.CPUPerReq))
			}
		}
	}

	sums, rs := summarize(samples), ratios(samples)
	code := 0
	var check []checkResult
	if b, err := readBaseline(o.baselinePath); err == nil {
		var ok bool
		check, ok = b.check(rs)
		if !ok && o.short {
			code = 1
		}
	} else if o.short && !o.writeBaseline {
		return 2, err
	}
	if o.writeBaseline {
		note := fmt.Sprintf("%d rounds of %v, -c %d, %d Envoy worker(s), %d CPUs", o.rounds, o.duration, o.concurrency, o.workers, runtime.NumCPU())
		if err := writeBaseline(o.baselinePath, rs, note, time.Now()); err != nil {
			return 2, err
		}
		logf("recorded the ratios in %s", o.baselinePath)
	}
	m := meta{When: time.Now(), Envoy: "Envoy " + envoyVersionString(string(envoyVersion)), WasmBytes: wasmInfo.Size(),
		Concurrency: o.concurrency, EnvoyWorkers: o.workers, Duration: o.duration, Rounds: o.rounds,
		ColdPool: o.pool, CacheSize: o.cacheSize, CPUs: runtime.NumCPU(), Short: o.short, HostVerify: hostCrypto}
	var report strings.Builder
	writeMarkdown(&report, m, sums, rs, check)
	if o.microPath != "" {
		micro, err := os.ReadFile(o.microPath)
		if err != nil {
			return 2, errors.New("benchrun: cannot read -micro: " + err.Error())
		}
		writeMicro(&report, string(micro))
	}
	if err := os.WriteFile(filepath.Join(o.outDir, "report.md"), []byte(report.String()), 0o644); err != nil {
		return 2, err
	}
	if err := writeChart(filepath.Join(o.outDir, "chart.png"), sums); err != nil {
		return 2, err
	}
	raw, _ := json.MarshalIndent(map[string]any{"samples": samples, "ratios": rs}, "", "  ")
	if err := os.WriteFile(filepath.Join(o.outDir, "results.json"), raw, 0o644); err != nil {
		return 2, err
	}
	fmt.Print(report.String())
	if code != 0 {
		return code, errors.New("benchrun: a ratio fell below its floor in " + o.baselinePath + " (see the baseline check above)")
	}
	return 0, nil
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "benchrun: "+format+"\n", a...)
}

// envoyVersionString picks "1.40.0/Clean/RELEASE/BoringSSL" out of
// `envoy --version`.
func envoyVersionString(s string) string {
	if i := strings.Index(s, "version: "); i >= 0 {
		f := strings.Fields(s[i+len("version: "):])
		if len(f) > 0 {
			if j := strings.IndexByte(f[0], '/'); j >= 0 {
				return f[0][j+1:]
			}
			return f[0]
		}
	}
	return strings.TrimSpace(s)
}

// mintTokens returns one warm token and n distinct cold ones, all valid for
// an hour, as Authorization values.
func mintTokens(idp *issuer.Issuer, n int) (warm, cold []string, err error) {
	mint := func(i int) (string, error) {
		t, err := idp.Mint(issuer.Claims{"aud": benchAudience, "sub": "user-" + strconv.Itoa(i), "jti": strconv.Itoa(i)},
			issuer.WithTTL(time.Hour))
		return "Bearer " + t, err
	}
	w, err := mint(-1)
	if err != nil {
		return nil, nil, err
	}
	cold = make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	workers := runtime.NumCPU()
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += workers {
				t, e := mint(i)
				if e != nil {
					mu.Lock()
					err = e
					mu.Unlock()
					return
				}
				cold[i] = t
			}
		}(g)
	}
	wg.Wait()
	return []string{w}, cold, err
}

// startUpstream serves a small 200 response on a loopback port.
func startUpstream() (*http.Server, int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	body := []byte(`{"ok":true}`)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(l) }()
	return srv, l.Addr().(*net.TCPAddr).Port, nil
}

// tokengateConfig is the plugin configuration equivalent to the jwt_authn
// bootstrap: one provider with the keys inline, issuer and audience checked,
// sub copied to x-user.
func tokengateConfig(idp *issuer.Issuer, cacheSize int) string {
	return `{"realm": "bench", "cache_size": ` + strconv.Itoa(cacheSize) + `,
  "providers": {"corp": {"issuer": "` + benchIssuer + `", "audiences": ["` + benchAudience + `"], "jwks": ` + string(idp.JWKS()) + `,
    "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}},
  "rules": [{"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}]}`
}

// startEnvoys starts one Envoy per configuration measured.
func startEnvoys(o options, work string, upPort int, wasm, native, pluginConfig string, idp *issuer.Issuer, procs *[]*process) ([]target, error) {
	var targets []target
	variants := []string{noAuth, jwtAuthn, tokengate}
	if native != "" {
		variants = append(variants, tokengateNative)
	}
	if o.wasmBefore != "" {
		variants = append(variants, tokengateBefore)
	}
	if o.nativeBefore != "" {
		if filepath.Base(o.nativeBefore) != "libtokengate.so" {
			return nil, errors.New("benchrun: -native-before must name a libtokengate.so (Envoy loads the module by that name from its directory)")
		}
		variants = append(variants, nativeBefore)
	}
	noopWasm := ""
	if o.noop {
		noopWasm = filepath.Join(work, "noop.wasm")
		build := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", noopWasm, "./build/cmd/benchrun/testdata/noop")
		build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		if out, err := build.CombinedOutput(); err != nil {
			return nil, errors.New("benchrun: building the no-op filter failed (run from the module root): " + err.Error() + "\n" + string(out))
		}
		variants = append(variants, goNoop, goHostWork)
	}
	floorWasm := ""
	if o.floor {
		floorWasm = filepath.Join(work, "floor.wasm")
		if err := os.WriteFile(floorWasm, floorwasm.Module(), 0o600); err != nil {
			return nil, err
		}
		variants = append(variants, floor)
	}
	floorNativeDir := ""
	if o.floor && native != "" {
		floorNativeDir = filepath.Join(work, "floor-native")
		if err := os.MkdirAll(floorNativeDir, 0o755); err != nil {
			return nil, err
		}
		if _, err := floornative.Build(floorNativeDir); err != nil {
			return nil, err
		}
		variants = append(variants, nativeFloor)
	}
	for _, v := range variants {
		admin, err1 := freePort()
		listen, err2 := freePort()
		if err1 != nil || err2 != nil {
			return nil, errors.New("benchrun: no free loopback port")
		}
		var yaml []byte
		var err error
		var env []string
		switch v {
		case noAuth:
			yaml, err = envoy.RenderNoAuth(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upPort})
		case jwtAuthn:
			yaml, err = envoy.RenderJWTAuthn(envoy.JWTAuthn{AdminPort: admin, ListenPort: listen, UpstreamPort: upPort,
				Issuer: benchIssuer, Audiences: []string{benchAudience}, JWKS: string(idp.JWKS()),
				Claim: "sub", ClaimHeader: "x-user", CacheSize: o.cacheSize})
		case tokengate, tokengateBefore:
			path := wasm
			if v == tokengateBefore {
				path = o.wasmBefore
			}
			yaml, err = envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upPort,
				WasmPath: path, PluginConfig: pluginConfig, FailurePolicy: "FAIL_CLOSED"})
		case tokengateNative, nativeFloor, nativeBefore:
			dir := filepath.Dir(native)
			switch v {
			case nativeFloor:
				dir = floorNativeDir
			case nativeBefore:
				dir = filepath.Dir(o.nativeBefore)
			}
			env = []string{"ENVOY_DYNAMIC_MODULES_SEARCH_PATH=" + dir}
			yaml, err = envoy.RenderNative(envoy.Native{AdminPort: admin, ListenPort: listen, UpstreamPort: upPort, PluginConfig: pluginConfig})
		case floor:
			yaml, err = envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upPort,
				WasmPath: floorWasm, PluginConfig: "{}", FailurePolicy: "FAIL_CLOSED"})
		case goNoop, goHostWork:
			mode := "read"
			if v == goHostWork {
				mode = "mutate"
			}
			yaml, err = envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upPort,
				WasmPath: noopWasm, PluginConfig: mode, FailurePolicy: "FAIL_CLOSED"})
		}
		if err != nil {
			return nil, err
		}
		cfg := filepath.Join(work, v+".yaml")
		if err := os.WriteFile(cfg, yaml, 0o600); err != nil {
			return nil, err
		}
		p, err := startProcess("envoy-"+v, work, env, o.envoyBin, "-c", cfg, "--concurrency", strconv.Itoa(o.workers),
			"--disable-hot-restart", "-l", "warning", "--component-log-level", "wasm:info")
		if err != nil {
			return nil, err
		}
		*procs = append(*procs, p)
		targets = append(targets, target{variant: v, url: "http://127.0.0.1:" + strconv.Itoa(listen) + "/", proc: p})
	}
	return targets, nil
}

// startGoHost builds and starts tokengate-proxy in front of the upstream.
func startGoHost(work string, upPort int, wasm, pluginConfig string, procs *[]*process) (target, error) {
	bin := filepath.Join(work, "tokengate-proxy")
	if out, err := exec.Command("go", "build", "-o", bin, "./host/cmd/tokengate-proxy").CombinedOutput(); err != nil {
		return target{}, errors.New("benchrun: building tokengate-proxy failed (run from the module root): " + err.Error() + "\n" + string(out))
	}
	cfg := filepath.Join(work, "plugin.json")
	if err := os.WriteFile(cfg, []byte(pluginConfig), 0o600); err != nil {
		return target{}, err
	}
	listen, err := freePort()
	if err != nil {
		return target{}, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(listen)
	p, err := startProcess(tokengateProxy, work, nil, bin, "--plugin", wasm, "--config", cfg, "--listen", addr,
		"--upstream", "http://127.0.0.1:"+strconv.Itoa(upPort), "--admin-listen", "off")
	if err != nil {
		return target{}, err
	}
	*procs = append(*procs, p)
	return target{variant: tokengateProxy, url: "http://" + addr + "/", proc: p}, nil
}
