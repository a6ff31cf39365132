package host

import (
	"net/http"
	"strings"
)

// Middleware passes each request's headers through the plugin, then either
// writes the plugin's local response or calls next with the resulting headers.
// A trap or pool failure answers 500 unless WithFailOpen(true) was given.
func (p *Plugin) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := p.NewStream(r.Context())
		if err != nil {
			p.fail(w, r, next, err)
			return
		}
		defer s.Close()
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		hs := [][2]string{{":method", r.Method}, {":path", r.URL.RequestURI()}, {":authority", r.Host}, {":scheme", scheme}}
		for k, vs := range r.Header {
			for _, v := range vs {
				hs = append(hs, [2]string{strings.ToLower(k), v})
			}
		}
		res, err := s.RequestHeaders(hs, r.ContentLength == 0)
		if err != nil {
			p.fail(w, r, next, err)
			return
		}
		if res.Local != nil {
			for _, h := range res.Local.Headers {
				w.Header().Add(h[0], h[1])
			}
			w.WriteHeader(res.Local.Status)
			w.Write(res.Local.Body)
			return
		}
		if res.Paused {
			p.fail(w, r, next, errPaused)
			return
		}
		r2 := r.Clone(r.Context())
		r2.Header = http.Header{}
		for _, h := range res.Headers {
			switch h[0] {
			case ":path":
				r2.RequestURI = h[1]
			case ":method", ":authority", ":scheme":
			default:
				r2.Header.Add(h[0], h[1])
			}
		}
		next.ServeHTTP(w, r2)
	})
}

type pausedError struct{}

func (pausedError) Error() string {
	return "host: plugin paused the request without answering; pausing is not supported"
}

var errPaused error = pausedError{}

func (p *Plugin) fail(w http.ResponseWriter, r *http.Request, next http.Handler, err error) {
	p.cfg.logger.Error("plugin failed", "err", err, "fail_open", p.cfg.failOpen)
	if p.cfg.failOpen {
		next.ServeHTTP(w, r)
		return
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}
