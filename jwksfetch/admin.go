package jwksfetch

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

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
	})
	mux.HandleFunc(refreshapi.Method+" "+refreshapi.Path, func(w http.ResponseWriter, r *http.Request) {
		provider, kid, err := refreshapi.Parse(r.URL.RawQuery)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), refreshapi.MaxWait)
		defer cancel()
		jwks, out, err := f.RefreshKeys(ctx, provider, kid)
		w.Header().Set(refreshapi.OutcomeHeader, out.String())
		switch {
		case out == RefreshUnknownProvider:
			http.Error(w, "no fetched provider is named "+strconv.Quote(provider), http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusGatewayTimeout)
		case jwks == nil:
			http.Error(w, "provider "+strconv.Quote(provider)+" has no key set in force; see /readyz and the fetcher's log", http.StatusServiceUnavailable)
		default:
			w.Header().Set("Content-Type", refreshapi.ContentType)
			w.Header().Set("Content-Length", strconv.Itoa(len(jwks)))
			_, _ = w.Write(jwks)
		}
	})
	return mux
}
