package e2e

import (
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
)

// hostCrypto says, per Envoy minor release, whether the plugin finds a
// working verify_signature foreign function there, as measured with the
// PyPI wheels (docs/compatibility.md). 1.39.0 has none: the plugin's probe
// gets NotFound. A release not in the table fails the test until it is
// measured and added.
var hostCrypto = map[[2]int]bool{
	{1, 36}: true,
	{1, 37}: true,
	{1, 39}: false,
	{1, 40}: true,
}

// envoyRelease reads major and minor from `envoy --version`
// ("…/1.37.0/Clean/RELEASE/BoringSSL").
func envoyRelease(t *testing.T) [2]int {
	t.Helper()
	out, err := exec.Command(envoytest.Binary(t), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("envoy --version: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`/(\d+)\.(\d+)\.\d+/`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("envoy --version printed no release: %s", out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return [2]int{major, minor}
}

// TestEnvoyChoosesWhereSignaturesAreVerified checks, on whatever Envoy
// TOKENGATE_ENVOY names, that the plugin verifies signatures with the
// host's verify_signature exactly on the releases that have it and in the
// module on the others, and that tokens are accepted and forgeries refused
// either way.
func TestEnvoyChoosesWhereSignaturesAreVerified(t *testing.T) {
	release := envoyRelease(t)
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256, issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	up, _ := upstream(t)
	p := startEnvoy(t, pluginConfig(t, iss), up, nil)
	client := &http.Client{Timeout: 10 * time.Second}
	tok, err := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api://scoring"}, issuer.WithKey("ES256-1"))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.get(t, client, "/v1/score", "Bearer "+tok); r.status != 200 {
		t.Fatalf("a valid token got %d: %s", r.status, r.body)
	}
	if r := p.get(t, client, "/v1/score", "Bearer "+tok[:len(tok)-6]+"AAAAAA"); r.status != 401 {
		t.Fatalf("a forged signature got %d: %s", r.status, r.body)
	}
	want, measured := hostCrypto[release]
	// Where the host is expected, wait for Envoy to flush the line; where it
	// is not, a short wait is enough to see that it never comes.
	wait := 2 * time.Second
	if want {
		wait = 15 * time.Second
	}
	onHost := p.env.LogContains("signatures are verified by the host's verify_signature", wait)
	t.Logf("Envoy %d.%d: signatures verified on the host: %v", release[0], release[1], onHost)
	if !measured {
		t.Fatalf("Envoy %d.%d is not in hostCrypto: add it (host verification: %v) and to docs/compatibility.md", release[0], release[1], onHost)
	}
	if onHost != want {
		t.Fatalf("Envoy %d.%d: host verification = %v, want %v (docs/compatibility.md lists the releases with verify_signature)",
			release[0], release[1], onHost, want)
	}
}
