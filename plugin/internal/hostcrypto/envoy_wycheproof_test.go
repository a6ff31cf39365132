//go:build !wasip1

package hostcrypto

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/wycheproof"
)

// TestWycheproofEnvoy sends every RS* and ES* Wycheproof vector that the
// guest encoder can encode to Envoy's own verify_signature, through the
// probe module (testdata/probe) loaded in a real Envoy. Vectors that
// Comparable lets through, which are the ones the plugin sends, must be
// decided as wycheproof.Want says; the others (RSA signatures whose length is
// not the modulus') are only recorded, since the plugin keeps them in the
// module.
func TestWycheproofEnvoy(t *testing.T) {
	envoytest.Binary(t)
	type sent struct {
		v          vector
		comparable bool
	}
	cases := map[string]sent{}
	var lines []string
	skipped := wycheproof.Tally{}
	for _, v := range vectors(t) {
		hash, sendable := hashFor(v.alg)
		if !sendable {
			skipped.Skip(v.alg)
			continue
		}
		k, _, err := NewKey(v.key.Public)
		if err != nil {
			t.Fatal(err)
		}
		sig := v.tc.Sig
		if k.ec {
			if sig, err = JOSEToDER(sig, k.size); err != nil {
				skipped.Skip(v.alg) // the plugin verifies it in the module
				continue
			}
		}
		name := strings.TrimSuffix(v.file, "_test.json") + "#" + strconv.Itoa(v.tc.ID)
		cases[name] = sent{v, Comparable(v.key.Public, v.tc.Sig)}
		lines = append(lines, strings.Join([]string{name, v.alg, hash, probeHex(k.spki),
			probeHex(sig), probeHex(v.tc.Msg), "0"}, " "))
	}
	answers, _ := runProbe(t, lines)
	decided, other := wycheproof.Tally{}, wycheproof.Tally{}
	for name, c := range cases {
		got := answers[name]
		if got == "" {
			t.Errorf("%s: no answer in Envoy's log", name)
			continue
		}
		accepted := got == "accepted"
		if !accepted && !strings.HasPrefix(got, "refused") {
			t.Errorf("%s: Envoy answered %s, want accepted or refused", name, got)
			continue
		}
		if !c.comparable {
			other.Add(c.v.alg, c.v.tc, accepted)
			continue
		}
		decided.Add(c.v.alg, c.v.tc, accepted)
		want, err := wycheproof.Want(c.v.tc)
		if err != nil {
			t.Fatal(err)
		}
		if accepted != want {
			t.Errorf("%s (%s, %s %v): Envoy accepted=%v, want %v", name, c.v.tc.Comment, c.v.tc.Result, c.v.tc.Flags, accepted, want)
		}
	}
	t.Logf("Envoy's verify_signature on the vectors the plugin sends it:\n%s", decided)
	t.Logf("Envoy's verify_signature on RSA signatures the plugin keeps in the module (length is not the modulus'):\n%s", other)
	t.Logf("not sent to Envoy (PS*, EdDSA, ECDSA signatures of the wrong length):\n%s", skipped)
}

// probeHex writes a probe field: hex, or "-" for no bytes.
func probeHex(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

// probeBootstrap is the Envoy that runs the probe module.
var probeBootstrap = template.Must(template.New("probe-bootstrap.yaml.tmpl").Funcs(template.FuncMap{
	"json": func(s string) (string, error) { b, err := json.Marshal(s); return string(b), err },
}).ParseFiles("testdata/probe-bootstrap.yaml.tmpl"))

// runProbe builds the probe module, runs it in Envoy with one case per line
// and returns Envoy's answer per case name.
func runProbe(t *testing.T, lines []string) (answers map[string]string, log string) {
	t.Helper()
	dir := t.TempDir()
	wasm := filepath.Join(dir, "probe.wasm")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", wasm, "./testdata/probe")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	var yaml bytes.Buffer
	err := probeBootstrap.Execute(&yaml, map[string]any{"AdminPort": admin, "ListenPort": listen,
		"Wasm": wasm, "Config": strings.Join(lines, "\n")})
	if err != nil {
		t.Fatal(err)
	}
	e := envoytest.Start(t, yaml.Bytes(), admin, envoytest.Options{Concurrency: 1})
	deadline := time.Now().Add(120 * time.Second)
	for !strings.Contains(e.Log(), "probe done") {
		if time.Now().After(deadline) {
			t.Fatalf("the probe did not finish in 120s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	log = e.Log()
	answers = map[string]string{}
	for _, m := range regexp.MustCompile(`probe (\S+) answer=(\S+)`).FindAllStringSubmatch(log, -1) {
		if _, seen := answers[m[1]]; !seen {
			answers[m[1]] = m[2]
		}
	}
	return answers, log
}
