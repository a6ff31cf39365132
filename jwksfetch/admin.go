package jwksfetch

import (
	"fmt"
	"net/http"

	"github.com/tokengate/tokengate/internal/refreshapi"
)

// AdminHandler serves the fetcher's operational endpoints:
//
//	GET  /healthz                        200 while the fetcher runs
//	GET  /readyz                         200 when every provider has a key set, else 503
//	GET  /metrics                        Prometheus text
//	POST /refresh?provider=NAME&kid=KID  RequestRefresh; 202 scheduled, 200 nothing to do,
//	                                     429 rate limited, 404 unknown provider
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
		out := f.RequestRefresh(provider, kid)
		status := http.StatusOK
		switch out {
		case RefreshScheduled:
			status = http.StatusAccepted
		case RefreshRateLimited:
			status = http.StatusTooManyRequests
		case RefreshUnknownProvider:
			status = http.StatusNotFound
		}
		w.WriteHeader(status)
		fmt.Fprintln(w, out)
	})
	return mux
}
