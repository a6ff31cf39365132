package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokengate/tokengate/jwksfetch/internal/httpget"
)

func TestJWKSURI(t *testing.T) {
	t.Parallel()
	var doc string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(doc))
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name string
		doc  string
		want string
		err  error
	}{
		{name: "a matching issuer yields its jwks_uri", doc: fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, srv.URL, srv.URL+"/keys"), want: srv.URL + "/keys"},
		{name: "a different issuer is refused", doc: fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, srv.URL+"/", srv.URL+"/keys"), err: ErrIssuerMismatch},
		{name: "a missing jwks_uri is refused", doc: fmt.Sprintf(`{"issuer":%q}`, srv.URL), err: ErrNoJWKSURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc = tt.doc
			got, err := JWKSURI(context.Background(), srv.Client(), srv.URL, httpget.Options{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("a non-https jwks_uri elsewhere is refused", func(t *testing.T) {
		doc = fmt.Sprintf(`{"issuer":%q,"jwks_uri":"http://idp.example.com/keys"}`, srv.URL)
		if _, err := JWKSURI(context.Background(), srv.Client(), srv.URL, httpget.Options{}); err == nil {
			t.Fatal("want an error")
		}
	})
}

// TestJWKSURINeverDowngrades: a discovery document fetched over https that
// names a plain-http jwks_uri is a downgrade, refused even on loopback and
// even where plain http is allowed.
func TestJWKSURINeverDowngrades(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, srv.URL, plain.URL+"/keys")
	}))
	t.Cleanup(srv.Close)
	for _, allow := range []bool{false, true} {
		_, err := JWKSURI(context.Background(), srv.Client(), srv.URL, httpget.Options{InsecureAllowHTTP: allow})
		if !errors.Is(err, httpget.ErrDowngrade) {
			t.Errorf("allow_insecure_http=%v: err = %v, want ErrDowngrade", allow, err)
		}
	}
}
