package jwksfetch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

func TestOnce(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, srv.URL, srv.URL+"/keys")
	})
	key := withMember(newJWK(t, issuer.ES256, "k1"), "d", "secret")
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(set(key)))
	})
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`<html>`)) })

	t.Run("discovery fills in a provider's key set and strips private members", func(t *testing.T) {
		cfg := fmt.Sprintf(`{"realm":"r","providers":{"corp":{"issuer":%q},"inline":{"issuer":"x","jwks":{"keys":[]}}}}`, srv.URL)
		out, warns, err := Once(context.Background(), []byte(cfg), WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Realm     string
			Providers map[string]struct{ JWKS json.RawMessage }
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if got.Realm != "r" || !strings.Contains(string(got.Providers["corp"].JWKS), `"kid":"k1"`) || strings.Contains(string(out), "secret") {
			t.Fatalf("rendered %s", out)
		}
		if string(got.Providers["inline"].JWKS) != `{"keys":[]}` {
			t.Fatalf("inline set changed: %s", got.Providers["inline"].JWKS)
		}
		if len(warns) != 1 || !strings.Contains(warns[0], "providers.corp") {
			t.Fatalf("warnings = %q", warns)
		}
	})
	t.Run("passphrase providers are left alone", func(t *testing.T) {
		cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":%q},"batch":{"type":"passphrase","passphrase":"0123456789abcdef"}}}`, srv.URL)
		out, _, err := Once(context.Background(), []byte(cfg), WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), `"batch":{"passphrase":"0123456789abcdef","type":"passphrase"}`) && !strings.Contains(string(out), `"batch":{"type":"passphrase","passphrase":"0123456789abcdef"}`) {
			t.Fatalf("the passphrase provider changed: %s", out)
		}
	})
	t.Run("a garbage key set fails naming the provider", func(t *testing.T) {
		cfg := fmt.Sprintf(`{"providers":{"bad":{"jwks_uri":%q}}}`, srv.URL+"/garbage")
		_, _, err := Once(context.Background(), []byte(cfg), WithHTTPClient(srv.Client()))
		if err == nil || !strings.Contains(err.Error(), "providers.bad") {
			t.Fatalf("err = %v", err)
		}
	})
}
