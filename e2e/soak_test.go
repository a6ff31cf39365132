package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
	"github.com/tokengate/tokengate/testhost"
)

// The soak sends many requests at concurrency 64 with a mix of valid,
// expired, forged, tampered, scope-lacking and missing tokens, plus tokens
// minted while it runs, through a verified-token cache far smaller than the
// set of tokens, so that the cache churns the whole time. Every answer must
// be the expected one, the Wasm memory of every VM must stay flat after
// warm-up, and Envoy must log no Wasm error.
//
// TOKENGATE_SOAK_REQUESTS sets the number of requests (default 50,000, the
// CI size; `make soak` runs 1,000,000).

const soakConcurrency = 64

func soakRequests(t *testing.T) int {
	t.Helper()
	n := 50_000
	if s := os.Getenv("TOKENGATE_SOAK_REQUESTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1000 {
			t.Fatalf("TOKENGATE_SOAK_REQUESTS=%q: want a number of requests, at least 1000", s)
		}
		n = v
	}
	return n
}

// soakCall is one kind of request and the status it must get.
type soakCall struct {
	kind, path, auth string
	status           int
}

// soakMix builds the requests and keeps minting fresh tokens while the soak
// runs, so the set of tokens rotates.
type soakMix struct {
	iss    *issuer.Issuer
	calls  []soakCall // fixed part
	mu     sync.Mutex
	fresh  []string // valid tokens minted during the run, a ring
	next   int
	minted atomic.Int64
}

const soakCacheSize = 32

func newSoakMix(t *testing.T) *soakMix {
	t.Helper()
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	forger, err := issuer.New(iss.URL, issuer.RS256, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	m := &soakMix{iss: iss}
	mint := func(mi *issuer.Issuer, claims issuer.Claims, opts ...issuer.MintOption) string {
		claims["aud"] = "api://scoring"
		tok, err := mi.Mint(claims, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	for i := range 200 {
		kid := "RS256-1"
		if i%3 == 0 {
			kid = "ES256-1"
		}
		sub := issuer.Claims{"sub": fmt.Sprintf("user-%d", i)}
		// The fixed pool must outlive the longest soak.
		valid := mint(iss, sub, issuer.WithKey(kid), issuer.WithTTL(48*time.Hour))
		m.calls = append(m.calls, soakCall{"valid", "/v1/score", valid, 200})
		switch i % 5 {
		case 0:
			m.calls = append(m.calls, soakCall{"expired", "/v1/score", mint(iss, sub, issuer.WithKey(kid), issuer.WithTTL(-time.Hour)), 401})
		case 1:
			m.calls = append(m.calls, soakCall{"forged", "/v1/score", mint(forger, sub, issuer.WithKey(kid), issuer.WithTTL(48*time.Hour)), 401})
		case 2:
			m.calls = append(m.calls, soakCall{"tampered", "/v1/score", valid[:len(valid)-8] + "AAAAAAAA", 401})
		case 3:
			m.calls = append(m.calls, soakCall{"scope missing", "/admin/users", valid, 403})
		case 4:
			m.calls = append(m.calls, soakCall{"kid-less forged", "/v1/score", mint(forger, sub, issuer.WithHeader("kid", nil)), 401})
		}
	}
	m.calls = append(m.calls, soakCall{"no token", "/v1/score", "", 401}, soakCall{"public", "/healthz", "", 200},
		soakCall{"not a token", "/v1/score", "Bearer not.a.token", 401})
	m.fresh = make([]string, 64)
	for i := range m.fresh {
		m.fresh[i] = mint(iss, issuer.Claims{"sub": "fresh"})
	}
	return m
}

// rotate mints a new valid token every interval until ctx ends.
func (m *soakMix) rotate(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		tok, err := m.iss.Mint(issuer.Claims{"aud": "api://scoring", "sub": "fresh-" + strconv.FormatInt(m.minted.Add(1), 10)})
		if err != nil {
			continue
		}
		m.mu.Lock()
		m.fresh[m.next%len(m.fresh)] = "Bearer " + tok
		m.next++
		m.mu.Unlock()
	}
}

// pick returns the call for request number i: one in four is a token minted
// during the run.
func (m *soakMix) pick(i int) soakCall {
	if i%4 == 3 {
		m.mu.Lock()
		defer m.mu.Unlock()
		return soakCall{"fresh", "/v1/score", m.fresh[(i/4)%len(m.fresh)], 200}
	}
	return m.calls[(i*7919)%len(m.calls)]
}

func soakConfig(iss *issuer.Issuer) string {
	return `{
  "realm": "models",
  "cache_size": ` + strconv.Itoa(soakCacheSize) + `,
  "providers": {
    "corp": {"issuer": "` + iss.URL + `", "audiences": ["api://scoring"], "jwks": ` + string(iss.JWKS()) + `,
      "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}
  },
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/admin"}, "requires": {"providers": ["corp"], "scopes": ["admin"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`
}

// soakOutcome counts what the run saw.
type soakOutcome struct {
	mu         sync.Mutex
	byKind     map[string]map[int]int
	unexpected int
	errors     int
	first      string
}

func (o *soakOutcome) record(c soakCall, status int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byKind == nil {
		o.byKind = map[string]map[int]int{}
	}
	if err != nil {
		o.errors++
		if o.first == "" {
			o.first = c.kind + ": " + err.Error()
		}
		return
	}
	if o.byKind[c.kind] == nil {
		o.byKind[c.kind] = map[int]int{}
	}
	o.byKind[c.kind][status]++
	if status != c.status {
		o.unexpected++
		if o.first == "" {
			o.first = fmt.Sprintf("%s on %s: status %d, want %d", c.kind, c.path, status, c.status)
		}
	}
}

func (o *soakOutcome) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var b strings.Builder
	for kind, m := range o.byKind {
		fmt.Fprintf(&b, " %s=%v", kind, m)
	}
	return b.String()
}

// runSoak sends n requests through do at soakConcurrency and calls probe
// after each tenth of them.
func runSoak(n int, m *soakMix, do func(c soakCall) (int, error), probe func(done int)) *soakOutcome {
	out := &soakOutcome{}
	var (
		next, done atomic.Int64
		wg         sync.WaitGroup
		probeMu    sync.Mutex
	)
	step := int64(n / 10)
	for range soakConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				c := m.pick(int(i))
				status, err := do(c)
				out.record(c, status, err)
				if d := done.Add(1); d%step == 0 && probe != nil {
					probeMu.Lock()
					probe(int(d))
					probeMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

func TestSoakThroughEnvoy(t *testing.T) {
	envoytest.Binary(t)
	n := soakRequests(t)
	m := newSoakMix(t)
	up, hits := upstream(t)

	p, pid := startTaggedEnvoy(t, soakConfig(m.iss), up)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.rotate(ctx, 20*time.Millisecond)

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: soakConcurrency, MaxIdleConnsPerHost: soakConcurrency, MaxConnsPerHost: soakConcurrency}}
	do := func(c soakCall) (int, error) {
		req, err := http.NewRequest(http.MethodGet, p.base+c.path, nil)
		if err != nil {
			return 0, err
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	type sample struct {
		done int
		wasm []int64 // bytes of linear memory per VM
		rss  int64
	}
	var samples []sample
	probe := func(done int) {
		samples = append(samples, sample{done, wasmMemories(pid), rssBytes(pid)})
	}
	probe(0)
	start := time.Now()
	out := runSoak(n, m, do, probe)
	elapsed := time.Since(start)
	cancel()

	t.Logf("%d requests at concurrency %d in %v (%.0f req/s); %d tokens minted during the run; upstream saw %d",
		n, soakConcurrency, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), m.minted.Load(), hits.Load())
	t.Logf("statuses by kind:%s", out)
	for _, s := range samples {
		t.Logf("after %7d requests: Wasm memory per VM %v MiB, Envoy RSS %d MiB", s.done, mib(s.wasm), s.rss>>20)
	}
	if out.errors > 0 || out.unexpected > 0 {
		t.Fatalf("%d transport errors and %d unexpected statuses of %d requests; first: %s", out.errors, out.unexpected, n, out.first)
	}
	// Warm-up is the first fifth; from there on no VM's memory may grow by
	// more than 16 MiB (a few Go heap steps), however long the run.
	if len(samples) < 3 {
		t.Fatalf("only %d memory samples", len(samples))
	}
	warm, last := samples[2], samples[len(samples)-1]
	if len(warm.wasm) == 0 {
		t.Fatalf("found no Wasm memory in Envoy's address space (pid %d)", pid)
	}
	if len(last.wasm) != len(warm.wasm) {
		t.Fatalf("the number of Wasm VMs changed from %d to %d: a VM failed and was replaced", len(warm.wasm), len(last.wasm))
	}
	for i := range warm.wasm {
		if grow := last.wasm[i] - warm.wasm[i]; grow > 16<<20 {
			t.Fatalf("VM %d's Wasm memory grew by %d MiB after warm-up (%v → %v MiB)", i, grow>>20, mib(warm.wasm), mib(last.wasm))
		}
	}
	if bad := p.env.WasmErrors(); len(bad) > 0 {
		t.Fatalf("envoy logged %d Wasm errors, first: %s", len(bad), bad[0])
	}
	if !p.env.Running() {
		t.Fatal("envoy exited")
	}
	// The plugin batches its counters and hands them to Envoy on a tick
	// (plugin/internal/metrics: every second, and every 64 decisions).
	time.Sleep(2 * time.Second)
	stats := p.env.Stats(t, "tokengate")
	var allowed, denied, hitsCache int64
	for name, v := range stats {
		switch {
		case strings.HasSuffix(name, "tokengate.requests.allowed"):
			allowed += v
		case strings.HasSuffix(name, "tokengate.requests.denied"):
			denied += v
		case strings.HasSuffix(name, "tokengate.cache.hits"):
			hitsCache += v
		}
	}
	t.Logf("plugin counters: allowed=%d denied=%d cache hits=%d", allowed, denied, hitsCache)
	if allowed+denied < int64(n) {
		t.Fatalf("plugin counters account for %d requests, want at least %d", allowed+denied, n)
	}
}

// TestSoakThroughGoHost runs a twenty-fifth of the soak (at least 2,000
// requests) through the Go host's middleware with several VMs; under -race it
// is the race soak of the host.
func TestSoakThroughGoHost(t *testing.T) {
	n := max(soakRequests(t)/25, 2000)
	m := newSoakMix(t)
	ctx := context.Background()
	p, err := host.Load(ctx, testhost.Wasm(t), host.WithPoolSize(4), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	if err := p.Configure(ctx, []byte(soakConfig(m.iss))); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	srv := httptest.NewServer(p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusTeapot) // the token must not reach the upstream
		}
	})))
	t.Cleanup(srv.Close)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go m.rotate(rctx, 20*time.Millisecond)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: soakConcurrency}}
	start := time.Now()
	out := runSoak(n, m, func(c soakCall) (int, error) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+c.path, nil)
		if err != nil {
			return 0, err
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}, nil)
	elapsed := time.Since(start)
	t.Logf("%d requests at concurrency %d through the Go host in %v (%.0f req/s); statuses by kind:%s",
		n, soakConcurrency, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), out)
	if out.errors > 0 || out.unexpected > 0 {
		t.Fatalf("%d transport errors and %d unexpected statuses of %d requests; first: %s", out.errors, out.unexpected, n, out.first)
	}
}

// startTaggedEnvoy is startEnvoy for tests that watch Envoy's memory: it
// also returns the pid, found through a unique --service-cluster name.
func startTaggedEnvoy(t *testing.T, cfg string, up *httptest.Server) (*proxy, int) {
	t.Helper()
	envoytest.Binary(t)
	tag := make([]byte, 6)
	_, _ = rand.Read(tag)
	cluster := "tokengate-e2e-" + hex.EncodeToString(tag)
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	var upPort int
	if _, err := fmt.Sscanf(up.URL, "http://127.0.0.1:%d", &upPort); err != nil {
		t.Fatal(err)
	}
	yaml, err := envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upPort,
		WasmPath: wasmbuild.Path(t), PluginConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{env: envoytest.Start(t, yaml, admin, envoytest.Options{Concurrency: 2, ExtraArgs: []string{"--service-cluster", cluster}}),
		base: fmt.Sprintf("http://127.0.0.1:%d", listen)}
	p.waitListener(t)
	return p, findProcess(t, cluster)
}

// findProcess returns the pid of the process whose command line holds tag.
func findProcess(t *testing.T, tag string) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !strings.Contains(string(b), tag) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err == nil {
			return pid
		}
	}
	t.Fatalf("no process has %q on its command line (is /proc mounted?)", tag)
	return 0
}

// wasmMemories returns the size of each Wasm linear memory in the process:
// V8 reserves a large address range per memory (the memory plus guard
// regions) and makes the memory's current size readable and writable, so a
// read-write anonymous mapping directly followed by an inaccessible one,
// together at least 4 GiB, is one VM's memory and its size the memory's.
func wasmMemories(pid int) []int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	type mapping struct {
		start, end uint64
		perms      string
		anon       bool
	}
	var ms []mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		ms = append(ms, mapping{start, end, fields[1], len(fields) == 5 && fields[4] == "0"})
	}
	var out []int64
	for i := 0; i+1 < len(ms); i++ {
		a, b := ms[i], ms[i+1]
		if a.anon && b.anon && strings.HasPrefix(a.perms, "rw") && strings.HasPrefix(b.perms, "---") &&
			a.end == b.start && b.end-a.start >= 4<<30 {
			out = append(out, int64(a.end-a.start))
		}
	}
	return out
}

// rssBytes is the resident set size of the process.
func rssBytes(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(sizes []int64) []int64 {
	out := make([]int64, len(sizes))
	for i, s := range sizes {
		out[i] = s >> 20
	}
	return out
}
