package jwksfetch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tokengate/tokengate/internal/keybundle"
	"github.com/tokengate/tokengate/internal/refreshapi"
)

// AdminHandler serves the fetcher's operational endpoints:
//
//	GET  /healthz                        200 while the fetcher runs
//	GET  /readyz                         200 when every provider has a key set, else 503
//	GET  /metrics                        Prometheus text
//	POST /refresh?provider=NAME&kid=KID  RefreshKeys: 200 with the provider's key set in force
//	                                     (application/jwk-set+json) once the on-demand fetch it
//	                                     started or joined has ended; 503 no key set, 504 the fetch
//	                                     did not end within refreshapi.MaxWait, 404 unknown provider
//	POST /refresh?provider=NAME&tenant=ID&kid=KID
//	                                     RefreshTenantKeys: the same for one tenant of a multi-tenant
//	                                     provider, the answer naming the tenant in refreshapi.TenantHeader
//	GET  /bundle                         with WithBundleKey: every provider's key set in one signed
//	                                     bundle (internal/keybundle; 304 for If-None-Match of its ETag),
//	                                     which is then also the answer of POST /refresh; 404 without
//	                                     a signing key, 503 before every provider's first fetch
//
// Bind it to a loopback or otherwise private address: /refresh is
// rate-limited but not authenticated.
func (f *Fetcher) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		var missing []string
		for _, st := range f.Status() {
			if !st.Available {
				missing = append(missing, st.Name)
			}
		}
		if len(missing) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "no key set yet for providers %v\n", missing)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = f.WriteMetrics(w)
		_ = f.writeBundleMetrics(w)
	})
	mux.HandleFunc("GET "+keybundle.Path, f.serveBundle) // bundle.go
	mux.HandleFunc(refreshapi.Method+" "+refreshapi.Path, func(w http.ResponseWriter, r *http.Request) {
		req, err := refreshapi.ParseRequest(r.URL.RawQuery)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		provider, tenant, kid := req.Provider, req.Tenant, req.KID
		ctx, cancel := context.WithTimeout(r.Context(), refreshapi.MaxWait)
		defer cancel()
		var (
			jwks json.RawMessage
			out  RefreshOutcome
		)
		if tenant != "" {
			jwks, out, err = f.RefreshTenantKeys(ctx, provider, tenant, kid) // tenant.go
		} else {
			jwks, out, err = f.RefreshKeys(ctx, provider, kid)
		}
		w.Header().Set(refreshapi.OutcomeHeader, out.String())
		if f.signsBundles() && out != RefreshUnknownProvider && err == nil {
			// The answer crosses the network to the proxy: with a signing
			// key it is the signed bundle, never a bare key set (bundle.go).
			f.serveBundle(w, r)
			return
		}
		switch {
		case out == RefreshUnknownProvider && tenant != "":
			http.Error(w, "no fetched multi-tenant provider "+strconv.Quote(provider)+" has the tenant "+strconv.Quote(tenant), http.StatusNotFound)
		case out == RefreshUnknownProvider && f.doc.tenants[provider] != nil:
			http.Error(w, "provider "+strconv.Quote(provider)+" has one key set per tenant: name the tenant (tenant=ID)", http.StatusNotFound)
		case out == RefreshUnknownProvider:
			http.Error(w, "no fetched provider is named "+strconv.Quote(provider), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusGatewayTimeout)
		case jwks == nil:
			http.Error(w, "provider "+strconv.Quote(provider)+" has no key set in force; see /readyz and the fetcher's log", http.StatusServiceUnavailable)
		default:
			if tenant != "" {
				w.Header().Set(refreshapi.TenantHeader, tenant)
			}
			w.Header().Set("Content-Type", refreshapi.ContentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(jwks)))
			_, _ = w.Write(jwks)
		}
	})
	return mux
}
