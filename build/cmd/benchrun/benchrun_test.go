package main

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line string
		want time.Duration
		err  bool
	}{
		{"utime and stime are summed", "42 (envoy) S 1 42 42 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 9 0 1 2 3", 2 * time.Second, false},
		{"a command name with spaces and parentheses is skipped", "7 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 3 4 0 0", 70 * time.Millisecond, false},
		{"a short line is an error", "7 (x) R 1 2", 0, true},
		{"a line without a command is an error", "garbage", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.line)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("parseStat = %v, %v; want %v (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
	t.Run("the CPU time of this process can be read", func(t *testing.T) {
		if _, err := cpuTime(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	})
}

func samplesFixture() []sample {
	var s []sample
	add := func(v, sc string, r int, rps float64, cpu time.Duration) {
		s = append(s, sample{Variant: v, Scenario: sc, Round: r, Requests: 1000, RPS: rps,
			P50: time.Millisecond, P99: 3 * time.Millisecond, CPUPerReq: cpu})
	}
	for r, f := range []float64{1, 0.8, 1.1} {
		add(noAuth, warm, r+1, 10000*f, 70*time.Microsecond)
		add(jwtAuthn, warm, r+1, 9000*f, 75*time.Microsecond)
		add(tokengate, warm, r+1, 9000*f*1.1, 80*time.Microsecond)
		add(jwtAuthn, cold, r+1, 6000*f, 125*time.Microsecond)
		add(tokengate, cold, r+1, 3000*f, 400*time.Microsecond)
		add(noAuth, cold, r+1, 10000*f, 70*time.Microsecond)
	}
	return s
}

func TestSummaryAndRatios(t *testing.T) {
	t.Parallel()
	s := samplesFixture()
	t.Run("the summary takes medians in report order", func(t *testing.T) {
		sums := summarize(s)
		if len(sums) != 6 || sums[0].Variant != noAuth || sums[0].Scenario != warm || sums[5].Variant != tokengate {
			t.Fatalf("unexpected order: %+v", sums)
		}
		if sums[0].RPS != 10000 || sums[0].RPSMin != 8000 || sums[0].RPSMax != 11000 || sums[0].Rounds != 3 {
			t.Fatalf("no-auth warm = %+v, want median 10000 in 8000–11000", sums[0])
		}
	})
	t.Run("ratios are per-round medians", func(t *testing.T) {
		rs := ratios(s)
		for k, want := range map[string]float64{"warm tokengate/jwt_authn": 1.1, "warm tokengate/no-auth": 0.99, "cold tokengate/jwt_authn": 0.5} {
			if got := rs[k]; got < want-1e-9 || got > want+1e-9 {
				t.Errorf("%s = %v, want %v", k, got, want)
			}
		}
		if _, ok := rs["warm tokengate-proxy/direct"]; ok {
			t.Error("a ratio of variants that did not run was reported")
		}
	})
	t.Run("an earlier build is compared round by round", func(t *testing.T) {
		with := append([]sample(nil), s...)
		for r, f := range []float64{1, 0.8, 1.1} {
			with = append(with,
				sample{Variant: tokengateBefore, Scenario: warm, Round: r + 1, Requests: 1000, RPS: 9000 * f},
				sample{Variant: tokengateNative, Scenario: warm, Round: r + 1, Requests: 1000, RPS: 8000 * f},
				sample{Variant: nativeBefore, Scenario: warm, Round: r + 1, Requests: 1000, RPS: 10000 * f})
		}
		rs := ratios(with)
		for k, want := range map[string]float64{"warm tokengate/tokengate-before": 1.1, "warm tokengate-native/tokengate-native-before": 0.8,
			"warm tokengate-native/jwt_authn": 8.0 / 9} {
			if got := rs[k]; math.Abs(got-want) > 1e-9 {
				t.Errorf("%s = %v, want %v", k, got, want)
			}
		}
	})
	t.Run("the report names every variant and ratio", func(t *testing.T) {
		var b bytes.Buffer
		writeMarkdown(&b, meta{When: time.Unix(0, 0), Envoy: "Envoy 1.40.0", Rounds: 3, CPUs: 2},
			summarize(s), ratios(s), nil)
		for _, want := range []string{"| warm | tokengate | 9900 |", "| cold tokengate/jwt_authn | 0.50 |", "chart.png", "cold tokengate +330.0 µs"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("report lacks %q:\n%s", want, b.String())
			}
		}
	})
}

func TestBaseline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "baseline.json")
	measured := ratios(samplesFixture())
	if err := writeBaseline(path, measured, "test", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	b, err := readBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.MinFraction != 0.5 || len(b.Ratios) != 4 {
		t.Fatalf("baseline %+v, want 4 Envoy ratios and fraction 0.5", b)
	}
	t.Run("the measurement it was recorded from passes", func(t *testing.T) {
		if _, ok := b.check(measured); !ok {
			t.Fatal("failed")
		}
	})
	t.Run("a ratio at 60 percent of the record passes", func(t *testing.T) {
		m := map[string]float64{}
		for k, v := range measured {
			m[k] = v * 0.6
		}
		if res, ok := b.check(m); !ok {
			t.Fatalf("failed: %+v", res)
		}
	})
	t.Run("a ratio below half the record fails", func(t *testing.T) {
		m := map[string]float64{}
		for k, v := range measured {
			m[k] = v
		}
		m["cold tokengate/jwt_authn"] = 0.2
		res, ok := b.check(m)
		if ok {
			t.Fatal("passed")
		}
		for _, r := range res {
			if r.Key == "cold tokengate/jwt_authn" && r.OK {
				t.Fatal("the low ratio is marked ok")
			}
		}
	})
	t.Run("a ratio that was not measured fails", func(t *testing.T) {
		if _, ok := b.check(map[string]float64{}); ok {
			t.Fatal("passed")
		}
	})
	t.Run("a broken baseline file is an error", func(t *testing.T) {
		for name, content := range map[string]string{"not JSON": "{", "no ratios": `{"min_fraction":0.5}`,
			"a fraction above one": `{"ratios":{"a":1},"min_fraction":2}`} {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			os.WriteFile(p, []byte(content), 0o600)
			if _, err := readBaseline(p); err == nil {
				t.Errorf("%s accepted", name)
			}
		}
		if _, err := readBaseline(filepath.Join(dir, "missing")); err == nil {
			t.Error("a missing file accepted")
		}
	})
}

func TestChart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "chart.png")
	if err := writeChart(path, summarize(samplesFixture())); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	chartW := chartWidth(3)
	if img.Bounds().Dx() != chartW || img.Bounds().Dy() != chartH {
		t.Fatalf("chart is %v", img.Bounds())
	}
	// The tokengate colour must appear: its bars were drawn.
	found := false
	c := variantColors[tokengate]
	for y := 0; y < chartH && !found; y++ {
		for x := 0; x < chartW; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(b>>8) == c.B {
				found = true
				break
			}
		}
	}
	if !found {
		t.Fatal("no tokengate bar in the chart")
	}
	t.Run("every glyph is 3 by 5", func(t *testing.T) {
		for r, g := range glyphs {
			if len(g) != 15 || strings.Trim(g, ".#") != "" {
				t.Errorf("glyph %q is malformed", r)
			}
		}
	})
}

func TestEnvoyVersionString(t *testing.T) {
	t.Parallel()
	got := envoyVersionString("\nenvoy  version: 9e55809/1.40.0/Clean/RELEASE/BoringSSL\n")
	if got != "1.40.0/Clean/RELEASE/BoringSSL" {
		t.Fatalf("got %q", got)
	}
}

func TestHostCryptoLogLineMatchesThePlugin(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "plugin", "internal", "hostverify", "hostverify.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), hostCryptoLogLine) {
		t.Fatalf("plugin/internal/hostverify/hostverify.go no longer logs %q; the report could not tell whether host crypto was used", hostCryptoLogLine)
	}
}

func TestWriteMicro(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	writeMicro(&b, "goos: linux\npkg: example/plugin\nBenchmarkPlugin/cached-2  100  1500 ns/op\nPASS\nok  example 1s\n")
	if got := b.String(); !strings.Contains(got, "pkg: example/plugin\nBenchmarkPlugin/cached-2  100  1500 ns/op\n```") || strings.Contains(got, "PASS") {
		t.Fatalf("got:\n%s", got)
	}
	b.Reset()
	writeMicro(&b, "no benchmarks here")
	if b.Len() != 0 {
		t.Fatalf("wrote %q for output without benchmarks", b.String())
	}
}

func TestFloorRatio(t *testing.T) {
	sum := func(v string, cpu time.Duration) summary { return summary{Variant: v, Scenario: warm, CPU: cpu} }
	tests := []struct {
		name string
		sums []summary
		want float64
		ok   bool
	}{
		{"extra CPU over no-auth, tokengate's over the floor's", []summary{sum(noAuth, 70*time.Microsecond), sum(floor, 76*time.Microsecond), sum(tokengate, 79*time.Microsecond)}, 1.5, true},
		{"no floor measured", []summary{sum(noAuth, 70*time.Microsecond), sum(tokengate, 79*time.Microsecond)}, 0, false},
		{"a floor no dearer than no-auth gives no ratio", []summary{sum(noAuth, 70*time.Microsecond), sum(floor, 70*time.Microsecond), sum(tokengate, 79*time.Microsecond)}, 0, false},
		{"the native module against its own floor", []summary{sum(noAuth, 70*time.Microsecond), sum(floor, 90*time.Microsecond),
			sum(nativeFloor, 74*time.Microsecond), sum(tokengateNative, 80*time.Microsecond)}, 2.5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			filter, fl := tokengate, floor
			if strings.Contains(tt.name, "native") {
				filter, fl = tokengateNative, nativeFloor
			}
			got, ok := floorRatio(tt.sums, warm, filter, fl)
			if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("floorRatio = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
