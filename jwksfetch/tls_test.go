package jwksfetch

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

func TestProviderCAFile(t *testing.T) {
	t.Parallel()
	key := newJWK(t, issuer.ES256, "tls")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(set(key)))
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("a provider's CA bundle is trusted", func(t *testing.T) {
		cfg := fmt.Sprintf(`{"providers":{"p":{"jwks_uri":%q,"fetch":{"ca_file":%q,"timeout_seconds":5}}}}`, srv.URL, ca)
		out, _, err := Once(context.Background(), []byte(cfg))
		if err != nil || !strings.Contains(string(out), `"kid":"tls"`) {
			t.Fatalf("out=%s err=%v", out, err)
		}
	})
	t.Run("without the CA bundle the server is not trusted", func(t *testing.T) {
		cfg := fmt.Sprintf(`{"providers":{"p":{"jwks_uri":%q,"fetch":{"timeout_seconds":5}}}}`, srv.URL)
		if _, _, err := Once(context.Background(), []byte(cfg)); err == nil {
			t.Fatal("want a certificate error")
		}
	})
	t.Run("a client certificate without its key is refused", func(t *testing.T) {
		cfg := fmt.Sprintf(`{"providers":{"p":{"jwks_uri":%q,"fetch":{"cert_file":%q}}}}`, srv.URL, ca)
		if _, _, err := Once(context.Background(), []byte(cfg)); err == nil || !strings.Contains(err.Error(), "key_file") {
			t.Fatalf("err = %v", err)
		}
	})
}
