package host

import (
	"net/http"
	"net/textproto"
	"strings"
)

// hopByHop are the request headers that describe one connection, not the
// request (RFC 9110 §7.6.1, and those RFC 2616 §13.5.1 listed), which no
// proxy forwards: httputil.ReverseProxy deletes each of them, and each
// header a Connection header names, from the request it sends upstream.
// Proxy-Authorization is among them: it is addressed to this proxy, which
// does not use it, and never reaches the upstream.
var hopByHop = []string{
	"Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Proxy-Connection",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// withoutHopByHop returns r, or a shallow copy of r with its own header map,
// without the hop-by-hop headers and without every header that a Connection
// header names. The middleware calls it before the plugin sees the request,
// for two reasons:
//
//   - A proxy behind the middleware removes these headers after the plugin
//     has run. A client that sends "Connection: X-User" would have the proxy
//     delete the X-User header the plugin set from a verified token; and a
//     header the plugin judged (a token in Proxy-Authorization) would never
//     reach the upstream. Removed first, the plugin judges what the upstream
//     receives and nothing it sets can be removed afterwards.
//   - Envoy does the same before its filters run.
//
// Two exceptions keep what a proxy would keep: "TE: trailers" (gRPC needs
// it) stays as exactly that, and a protocol upgrade (Connection naming
// "upgrade", with an Upgrade header) keeps "Connection: Upgrade" and its
// Upgrade header, so that a next handler that supports upgrades (websocket)
// still sees one. Every other header the Connection header names is removed
// all the same.
func withoutHopByHop(r *http.Request) *http.Request {
	h := r.Header
	found := false
	for _, k := range hopByHop {
		if _, ok := h[k]; ok {
			found = true
			break
		}
	}
	if !found {
		return r
	}
	clean := h.Clone()
	upgrade := ""
	if hasToken(h["Connection"], "upgrade") {
		upgrade = h.Get("Upgrade")
	}
	trailers := hasToken(h["Te"], "trailers")
	for _, v := range h["Connection"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				clean.Del(name)
			}
		}
	}
	for _, k := range hopByHop {
		clean.Del(k)
	}
	if trailers {
		clean.Set("Te", "trailers")
	}
	if upgrade != "" {
		clean.Set("Connection", "Upgrade")
		clean.Set("Upgrade", upgrade)
	}
	r2 := r.WithContext(r.Context())
	r2.Header = clean
	return r2
}

// hasToken reports whether the comma-separated values hold token, compared
// case-insensitively.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}
