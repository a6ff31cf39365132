package envoy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

func TestComparisonBootstraps(t *testing.T) {
	t.Parallel()
	ports := Bootstrap{AdminPort: 9901, ListenPort: 10000, UpstreamPort: 9000}
	noAuth, err := RenderNoAuth(ports)
	if err != nil {
		t.Fatal(err)
	}
	idp, err := issuer.New("https://idp.example.com", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	jwks := string(idp.JWKS())
	jwt, err := RenderJWTAuthn(JWTAuthn{AdminPort: 9901, ListenPort: 10000, UpstreamPort: 9000,
		Issuer: "https://idp.example.com", Audiences: []string{"api://x"}, JWKS: jwks,
		Claim: "sub", ClaimHeader: "x-user", CacheSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the no-auth bootstrap has the router and no authentication filter", func(t *testing.T) {
		s := string(noAuth)
		if !strings.Contains(s, "port_value: 10000") || !strings.Contains(s, "port_value: 9000") ||
			strings.Contains(s, "wasm") || strings.Contains(s, "jwt_authn") {
			t.Fatalf("unexpected bootstrap:\n%s", s)
		}
	})
	t.Run("the jwt_authn bootstrap checks issuer and audience and caches verified tokens", func(t *testing.T) {
		s := string(jwt)
		for _, want := range []string{`issuer: "https://idp.example.com"`, `audiences: ["api://x"]`,
			`jwt_cache_config: {jwt_cache_size: 100}`, `header_name: "x-user"`, `inline_string: "{\"keys\":`} {
			if !strings.Contains(s, want) {
				t.Errorf("bootstrap lacks %s:\n%s", want, s)
			}
		}
	})
	t.Run("the jwt_authn bootstrap leaves the cache off when no size is given", func(t *testing.T) {
		b, err := RenderJWTAuthn(JWTAuthn{AdminPort: 1, ListenPort: 2, UpstreamPort: 3, Issuer: "i", JWKS: jwks})
		if err != nil || strings.Contains(string(b), "jwt_cache_config") || strings.Contains(string(b), "claim_to_headers") {
			t.Fatalf("err %v, bootstrap:\n%s", err, b)
		}
	})
	t.Run("missing values are refused", func(t *testing.T) {
		if _, err := RenderNoAuth(Bootstrap{}); err == nil {
			t.Error("RenderNoAuth without ports accepted")
		}
		if _, err := RenderJWTAuthn(JWTAuthn{AdminPort: 1, ListenPort: 2, UpstreamPort: 3, JWKS: jwks}); err == nil {
			t.Error("RenderJWTAuthn without an issuer accepted")
		}
		if _, err := RenderJWTAuthn(JWTAuthn{AdminPort: 1, ListenPort: 2, UpstreamPort: 3, Issuer: "i", JWKS: jwks, Claim: "sub"}); err == nil {
			t.Error("RenderJWTAuthn with a claim but no header accepted")
		}
	})
	t.Run("Envoy accepts both bootstraps", func(t *testing.T) {
		bin := os.Getenv("TOKENGATE_ENVOY")
		if bin == "" {
			t.Skip("TOKENGATE_ENVOY is not set; `make e2e` installs Envoy")
		}
		for name, y := range map[string][]byte{"noauth": noAuth, "jwt_authn": jwt} {
			p := filepath.Join(t.TempDir(), name+".yaml")
			if err := os.WriteFile(p, y, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "--mode", "validate", "-c", p).CombinedOutput(); err != nil {
				t.Errorf("envoy refused the %s bootstrap: %v\n%s", name, err, out)
			}
		}
	})
}

func ExampleRenderJWTAuthn() {
	yaml, err := RenderJWTAuthn(JWTAuthn{AdminPort: 9901, ListenPort: 10000, UpstreamPort: 9000,
		Issuer: "https://idp.example.com", Audiences: []string{"api://scoring"},
		JWKS: `{"keys":[]}`, CacheSize: 100})
	if err != nil {
		panic(err)
	}
	_ = yaml // write it to a file and start Envoy with -c
}
