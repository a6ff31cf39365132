package hookdriver

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/internal/floornative"
	"github.com/tokengate/tokengate/internal/issuer"
)

func needCC(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil && os.Getenv("CC") == "" {
		t.Skip("no C compiler")
	}
}

// The driver calls the floor module's hook as Envoy would, and counts the
// callbacks it makes: two header changes and a route cache clear per call.
func TestDriverCallsTheFloorModule(t *testing.T) {
	needCC(t)
	dir := t.TempDir()
	driver, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	floor, err := floornative.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, gap := range []time.Duration{0, 50 * time.Microsecond} {
		r, err := Run(driver, floor, "{}", "Bearer x", 200, gap)
		if err != nil {
			t.Fatal(err)
		}
		if r.Calls != 200 || r.Sets != 400 || r.Clears != 200 || r.Responses != 0 {
			t.Errorf("gap %v: %+v, want 200 calls, 400 header changes, 200 clears, no response", gap, r)
		}
		if r.Hook <= 0 || r.Wall < r.Hook || r.CPU <= 0 || (gap > 0 && r.Wall < gap) {
			t.Errorf("gap %v: implausible times %+v", gap, r)
		}
	}
	if _, err := Run(driver, filepath.Join(dir, "missing.so"), "{}", "Bearer x", 1, 0); err == nil {
		t.Error("a missing library was not an error")
	}
}

// BenchmarkNativeHook measures tokengate's native module (TOKENGATE_NATIVE)
// and the floor module side by side: a cached token's request, back to back
// and 100 µs apart. It reports ns/op as the time inside the hook, and
// cpu-ns/call as the whole process's CPU per call.
func BenchmarkNativeHook(b *testing.B) {
	native := os.Getenv("TOKENGATE_NATIVE")
	if native == "" {
		b.Skip("set TOKENGATE_NATIVE to a libtokengate.so (make native)")
	}
	needCC(b)
	driver, err := Build(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	floor, err := floornative.Build(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	idp, err := issuer.New("https://idp.bench.example", issuer.RS256)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := idp.Mint(issuer.Claims{"aud": "api://bench", "sub": "user-1"}, issuer.WithTTL(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	config := `{"providers": {"corp": {"issuer": "` + idp.URL + `", "audiences": ["api://bench"], "jwks": ` + string(idp.JWKS()) + `,
  "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}}}`
	for _, lib := range []struct{ name, path string }{{"tokengate", native}, {"floor", floor}} {
		for _, gap := range []time.Duration{0, 100 * time.Microsecond} {
			b.Run(lib.name+"/gap="+strconv.Itoa(int(gap.Microseconds()))+"us", func(b *testing.B) {
				calls := max(b.N, 1000)
				r, err := Run(driver, lib.path, config, "Bearer "+tok, calls, gap)
				if err != nil {
					b.Fatal(err)
				}
				if r.Responses != 0 || r.Clears != calls {
					b.Fatalf("%+v: the module did not let every request through", r)
				}
				b.ReportMetric(float64(r.Hook.Nanoseconds()), "ns/op")
				b.ReportMetric(float64(r.CPU.Nanoseconds()), "cpu-ns/call")
			})
		}
	}
}
