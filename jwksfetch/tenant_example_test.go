package jwksfetch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tokengate/tokengate/jwksfetch"
)

// A multi-tenant provider: each tenant has its own issuer, discovery
// document and key set. The fetcher fetches every allowed tenant's set,
// renders them into "tenant_jwks", and refreshes one tenant at a time.
func ExampleFetcher_RefreshTenantKeys() {
	const key = `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"%s-2026-11","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`
	var base string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch rest {
		case "v2.0/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer":"%s/%s/v2.0","jwks_uri":"%s/%s/keys"}`, base, tenant, base, tenant)
		case "keys":
			fmt.Fprintf(w, key, tenant)
		default:
			http.NotFound(w, r)
		}
	}))
	defer idp.Close()
	base = idp.URL
	cfg := `{"providers":{"entra":{"issuer":"` + base + `/{tenantid}/v2.0","tenants":["contoso","fabrikam"]}}}`

	f, err := jwksfetch.New([]byte(cfg), jwksfetch.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx) }()
	for !f.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	for _, st := range f.Status() {
		fmt.Println(st.Name, st.Kids)
	}
	rendered, _ := f.Config()
	var doc struct {
		Providers map[string]struct {
			TenantJWKS map[string]json.RawMessage `json:"tenant_jwks"`
		}
	}
	_ = json.Unmarshal(rendered, &doc)
	fmt.Println("tenant_jwks:", len(doc.Providers["entra"].TenantJWKS), "key sets")

	set, outcome, err := f.RefreshTenantKeys(ctx, "entra", "fabrikam", "fabrikam-2026-11")
	fmt.Println("fabrikam:", outcome, strings.Contains(string(set), "fabrikam-2026-11"), err)
	_, outcome, _ = f.RefreshTenantKeys(ctx, "entra", "northwind", "k1")
	fmt.Println("northwind:", outcome)

	cancel()
	<-done
	// Output:
	// entra/contoso [contoso-2026-11]
	// entra/fabrikam [fabrikam-2026-11]
	// tenant_jwks: 2 key sets
	// fabrikam: known_kid true <nil>
	// northwind: unknown_provider
}
