package jwksfetch

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/jwksfetch/internal/httpget"
)

// TestRedirectsAreCheckedLikeTheFirstURL fetches through a TLS and a plain
// test server. The client given with WithHTTPClient dials 127.0.0.1 for
// every host name, so idp.example.com counts as a non-loopback host for the
// HTTPS rule while no traffic leaves the machine (the TLS test certificate
// covers *.example.com).
func TestRedirectsAreCheckedLikeTheFirstURL(t *testing.T) {
	t.Parallel()
	key := newJWK(t, issuer.ES256, "k1")
	mux := http.NewServeMux()
	tlsSrv, plainSrv := httptest.NewTLSServer(mux), httptest.NewServer(mux)
	t.Cleanup(tlsSrv.Close)
	t.Cleanup(plainSrv.Close)
	at := func(srv *httptest.Server, scheme, host, path string) string {
		u, _ := url.Parse(srv.URL)
		return scheme + "://" + net.JoinHostPort(host, u.Port()) + path
	}
	idp := at(tlsSrv, "https", "idp.example.com", "")
	plainKeys := at(plainSrv, "http", "keys.example.com", "/keys")
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(set(key))) })
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	// The issuer's discovery document moved to plain http on another host.
	mux.HandleFunc("/moved/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			http.Redirect(w, r, at(plainSrv, "http", "keys.example.com", r.URL.Path), http.StatusMovedPermanently)
			return
		}
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, idp+"/moved", idp+"/keys")
	})
	to := func(from, target string) string { return from + "/to?u=" + url.QueryEscape(target) }

	roots := x509.NewCertPool()
	roots.AddCert(tlsSrv.Certificate())
	tr := &http.Transport{TLSClientConfig: tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig.Clone(),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		}}
	tr.TLSClientConfig.RootCAs = roots
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		provider string // the provider's JSON object
		want     error  // nil: the key set is installed
	}{
		{name: "a jwks_uri redirected to https on another host is fetched",
			provider: fmt.Sprintf(`{"jwks_uri":%q}`, to(idp, at(tlsSrv, "https", "keys.example.com", "/keys")))},
		{name: "a jwks_uri redirected to plain http on a non-loopback host installs no keys",
			provider: fmt.Sprintf(`{"jwks_uri":%q}`, to(idp, plainKeys)), want: httpget.ErrInsecureURL},
		{name: "a discovery document redirected to plain http on a non-loopback host is refused",
			provider: fmt.Sprintf(`{"issuer":%q}`, idp+"/moved"), want: httpget.ErrInsecureURL},
		{name: "allow_insecure_http does not permit a downgrade from https",
			provider: fmt.Sprintf(`{"jwks_uri":%q,"fetch":{"allow_insecure_http":true}}`, to(idp, plainKeys)), want: httpget.ErrDowngrade},
		{name: "a provider with its own client (ca_file) refuses a downgrade to loopback http",
			provider: fmt.Sprintf(`{"jwks_uri":%q,"fetch":{"ca_file":%q,"timeout_seconds":5}}`,
				to(tlsSrv.URL, at(plainSrv, "http", "127.0.0.1", "/keys")), ca), want: httpget.ErrDowngrade},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := `{"providers":{"corp":` + tt.provider + `}}`
			out, _, err := Once(context.Background(), []byte(cfg), WithHTTPClient(client))
			if tt.want == nil {
				if err != nil || !strings.Contains(string(out), `"kid":"k1"`) {
					t.Fatalf("Once = %s, %v; want the key set installed", out, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || out != nil {
				t.Fatalf("Once = %s, %v; want %v and no configuration", out, err, tt.want)
			}
		})
	}
	t.Cleanup(func() { // after the parallel subtests
		if client.CheckRedirect != nil {
			t.Error("the client given with WithHTTPClient was modified")
		}
	})
}
