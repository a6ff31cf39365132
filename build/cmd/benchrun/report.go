package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Variants, in the order of the report and the chart.
const (
	noAuth          = "no-auth"
	jwtAuthn        = "jwt_authn"
	goNoop          = "go-noop"
	goHostWork      = "go-noop+host-work"
	floor           = "wasm-floor" // build/internal/floorwasm: tokengate's calls, no Go
	tokengate       = "tokengate"
	nativeFloor     = "native-floor" // build/internal/floornative: the native module's calls, no Go
	tokengateNative = "tokengate-native"
	tokengateBefore = "tokengate-before"        // -wasm-before
	nativeBefore    = "tokengate-native-before" // -native-before
	direct          = "direct"
	tokengateProxy  = "tokengate-proxy"
)

var variantOrder = []string{noAuth, jwtAuthn, floor, goNoop, goHostWork, tokengateBefore, tokengate, nativeFloor, nativeBefore,
	tokengateNative, direct, tokengateProxy}

// Scenarios: the same token on every request, or a fresh one each time.
const (
	warm = "warm"
	cold = "cold"
)

var scenarioOrder = []string{warm, cold}

// sample is one measured run.
type sample struct {
	Variant   string        `json:"variant"`
	Scenario  string        `json:"scenario"`
	Round     int           `json:"round"`
	Requests  int           `json:"requests"`
	RPS       float64       `json:"rps"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	CPUPerReq time.Duration `json:"cpu_per_request_ns"` // 0: no proxy process to measure
}

// summary is the median over the rounds of one variant and scenario.
type summary struct {
	Variant, Scenario string
	Rounds            int
	RPS, RPSMin       float64
	RPSMax            float64
	P50, P99, CPU     time.Duration
}

func summarize(samples []sample) []summary {
	type key struct{ v, s string }
	groups := map[key][]sample{}
	for _, s := range samples {
		k := key{s.Variant, s.Scenario}
		groups[k] = append(groups[k], s)
	}
	var out []summary
	for _, sc := range scenarioOrder {
		for _, v := range variantOrder {
			g := groups[key{v, sc}]
			if len(g) == 0 {
				continue
			}
			sum := summary{Variant: v, Scenario: sc, Rounds: len(g), RPSMin: g[0].RPS, RPSMax: g[0].RPS}
			var rps []float64
			var p50, p99, cpu []time.Duration
			for _, s := range g {
				rps = append(rps, s.RPS)
				p50, p99, cpu = append(p50, s.P50), append(p99, s.P99), append(cpu, s.CPUPerReq)
				sum.RPSMin, sum.RPSMax = min(sum.RPSMin, s.RPS), max(sum.RPSMax, s.RPS)
			}
			sum.RPS, sum.P50, sum.P99, sum.CPU = median(rps), median(p50), median(p99), median(cpu)
			out = append(out, sum)
		}
	}
	return out
}

func median[T int64 | float64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := append([]T(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ratioPairs are the comparisons the report and the baseline check use:
// numerator and denominator variants, per scenario.
var ratioPairs = [][2]string{{tokengate, jwtAuthn}, {tokengate, noAuth}, {tokengateNative, jwtAuthn}, {tokengateNative, noAuth},
	{tokengateProxy, direct}, {tokengateProxy, tokengate}, {tokengate, tokengateBefore}, {tokengateNative, nativeBefore}}

// baselinePairs are the ratios CI checks (build/bench/baseline.json): the
// Envoy ones, which the short run measures.
var baselinePairs = ratioPairs[:4]

func ratioKey(scenario, num, den string) string { return scenario + " " + num + "/" + den }

// ratios returns, for each scenario and pair, the median over rounds of the
// per-round requests/s ratio. Runs of one round are interleaved, so a
// per-round ratio cancels most of the drift of a shared machine.
func ratios(samples []sample) map[string]float64 {
	type key struct {
		v, s string
		r    int
	}
	rps := map[key]float64{}
	for _, s := range samples {
		rps[key{s.Variant, s.Scenario, s.Round}] = s.RPS
	}
	out := map[string]float64{}
	for _, sc := range scenarioOrder {
		for _, p := range ratioPairs {
			var rs []float64
			for k, num := range rps {
				if k.v != p[0] || k.s != sc {
					continue
				}
				if den, ok := rps[key{p[1], sc, k.r}]; ok && den > 0 {
					rs = append(rs, num/den)
				}
			}
			if len(rs) > 0 {
				out[ratioKey(sc, p[0], p[1])] = median(rs)
			}
		}
	}
	return out
}

// meta describes the run for the report header.
type meta struct {
	When         time.Time
	Envoy        string
	WasmBytes    int64
	Concurrency  int
	EnvoyWorkers int
	Duration     time.Duration
	Rounds       int
	ColdPool     int
	CacheSize    int
	CPUs         int
	Short        bool
	HostVerify   string // "yes" when tokengate used Envoy's verify_signature
}

func writeMarkdown(w io.Writer, m meta, sums []summary, rs map[string]float64, check []checkResult) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# tokengate benchmark\n\n")
	p("%s. %s; loopback, %d CPUs shared by the load generator, the upstream and the proxy. ",
		m.When.UTC().Format("2006-01-02 15:04 UTC"), m.Envoy, m.CPUs)
	p("Envoy with %d worker thread(s); load: %d keep-alive connections, %v per run, %d interleaved round(s). ",
		m.EnvoyWorkers, m.Concurrency, m.Duration, m.Rounds)
	p("RS256 (2048-bit). warm: the same token on every request; cold: %d distinct tokens round-robin, more than the verified-token cache (%d entries) of jwt_authn and tokengate, so every request verifies a signature. ",
		m.ColdPool, m.CacheSize)
	if m.HostVerify != "" {
		p("tokengate verified signatures with Envoy's verify_signature: %s. ", m.HostVerify)
	}
	p("tokengate.wasm: %.2f MB. Figures are medians over rounds; CPU is the proxy process's utime+stime per request.\n\n", float64(m.WasmBytes)/1e6)
	p("| scenario | variant | req/s | req/s range | p50 µs | p99 µs | proxy CPU µs/req |\n")
	p("|---|---|---:|---:|---:|---:|---:|\n")
	for _, s := range sums {
		cpu := "—"
		if s.CPU > 0 {
			cpu = fmt.Sprintf("%.1f", us(s.CPU))
		}
		p("| %s | %s | %.0f | %.0f–%.0f | %.0f | %.0f | %s |\n", s.Scenario, s.Variant, s.RPS, s.RPSMin, s.RPSMax, us(s.P50), us(s.P99), cpu)
	}
	p("\n| ratio of requests/s | value |\n|---|---:|\n")
	for _, k := range sortedKeys(rs) {
		p("| %s | %.2f |\n", k, rs[k])
	}
	if cpuLine := cpuRatios(sums); cpuLine != "" {
		p("\n%s\n", cpuLine)
	}
	if len(check) > 0 {
		p("\n## Baseline check\n\n| ratio | measured | recorded | floor | |\n|---|---:|---:|---:|---|\n")
		for _, c := range check {
			verdict := "ok"
			if !c.OK {
				verdict = "**below floor**"
			}
			p("| %s | %.2f | %.2f | %.2f | %s |\n", c.Key, c.Measured, c.Recorded, c.Floor, verdict)
		}
	}
	p("\n![requests/s and proxy CPU per request](chart.png)\n")
}

// cpuRatios states the extra proxy CPU per request of each filter over no
// auth, the most stable figure on a noisy machine.
func cpuRatios(sums []summary) string {
	var parts []string
	for _, sc := range scenarioOrder {
		var base time.Duration
		for _, s := range sums {
			if s.Scenario == sc && s.Variant == noAuth {
				base = s.CPU
			}
		}
		if base == 0 {
			continue
		}
		for _, s := range sums {
			if s.Scenario == sc && s.Variant != noAuth && s.Variant != tokengateProxy && s.CPU > 0 {
				parts = append(parts, fmt.Sprintf("%s %s %+.1f µs", sc, s.Variant, us(s.CPU-base)))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	line := "Envoy CPU per request over no-auth: " + strings.Join(parts, "; ") + "."
	if r, ok := floorRatio(sums, warm, tokengate, floor); ok {
		line += fmt.Sprintf(" tokengate's extra CPU per warm request is %.2f× the Wasm floor's (target ≤ 1.3×).", r)
	}
	if r, ok := floorRatio(sums, warm, tokengateNative, nativeFloor); ok {
		line += fmt.Sprintf(" The native module's is %.2f× the native floor's.", r)
	}
	return line
}

// floorRatio is a filter's extra Envoy CPU per request over no-auth divided
// by its floor module's (the same exports and host calls, no Go): how far
// the filter is from what its call pattern costs in Envoy by itself.
func floorRatio(sums []summary, scenario, filter, floorVariant string) (float64, bool) {
	cpu := map[string]time.Duration{}
	for _, s := range sums {
		if s.Scenario == scenario {
			cpu[s.Variant] = s.CPU
		}
	}
	base, f, tg := cpu[noAuth], cpu[floorVariant], cpu[filter]
	if base == 0 || f <= base || tg == 0 {
		return 0, false
	}
	return float64(tg-base) / float64(f-base), true
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// writeMicro appends the benchmark lines of `go test -bench` output.
func writeMicro(w io.Writer, out string) {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "pkg: ") {
			lines = append(lines, strings.TrimRight(l, " \t"))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Micro-benchmarks (go test -bench; the plugin through testhost in wazero, gate natively)\n\n```\n%s\n```\n", strings.Join(lines, "\n"))
}
