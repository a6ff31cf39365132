package main

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// forwarding decides what the upstream learns about where a request came
// from. A client can send X-Forwarded-Host: admin.internal as easily as any
// other header, so these headers are believed only from a peer the operator
// trusts (--trusted-proxies, such as a load balancer in front of the proxy).
type forwarding struct {
	trusted []netip.Prefix
}

// parseTrustedProxies reads CIDRs (10.0.0.0/8) or single addresses
// (192.0.2.7), as --trusted-proxies gives them.
func parseTrustedProxies(list []string) (forwarding, error) {
	var f forwarding
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			f.trusted = append(f.trusted, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return forwarding{}, fmt.Errorf("--trusted-proxies: %q is neither a CIDR like 10.0.0.0/8 nor an IP address: %w", s, err)
		}
		a = a.Unmap()
		f.trusted = append(f.trusted, netip.PrefixFrom(a, a.BitLen()))
	}
	return f, nil
}

// clientAddressHeaders are the other headers through which proxies and CDNs
// tell an upstream who the client is; frameworks read them for client IPs.
var clientAddressHeaders = []string{"forwarded", "x-real-ip", "true-client-ip", "x-client-ip",
	"cf-connecting-ip", "x-cluster-client-ip", "fastly-client-ip", "x-original-forwarded-for"}

// isForwardingHeader reports whether name is a header through which a peer
// tells the upstream about the client: Forwarded, X-Real-IP, every
// X-Forwarded-* and the CDN spellings of the client address. "_" and "-"
// count alike, since many servers (CGI, WSGI, PHP) read X_Forwarded_For as
// X-Forwarded-For.
//
// It runs on every header of every request, so it compares in place rather
// than building a normalised copy of name.
func isForwardingHeader(name string) bool {
	const prefix = "x-forwarded-"
	if len(name) >= len(prefix) && sameHeaderName(name[:len(prefix)], prefix) {
		return true
	}
	for _, h := range clientAddressHeaders {
		if sameHeaderName(name, h) {
			return true
		}
	}
	return false
}

// sameHeaderName reports whether name equals lower, a lower-case name,
// ignoring the case of ASCII letters and counting "_" as "-".
func sameHeaderName(name, lower string) bool {
	if len(name) != len(lower) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// apply returns r with the forwarding headers the upstream should see. It
// runs before the plugin, so a rule that matches on these headers judges
// exactly what the upstream receives.
//
// From an untrusted peer every forwarding header is removed and the proxy
// sets X-Forwarded-For (the peer's address), X-Forwarded-Host (the Host it
// was asked for) and X-Forwarded-Proto itself. From a trusted peer the
// peer's address is appended to its X-Forwarded-For, its canonical
// forwarding headers are kept, X-Forwarded-Host and X-Forwarded-Proto are set
// only where it sent none, and spellings with "_" are removed all the same.
func (f forwarding) apply(r *http.Request) *http.Request {
	peer, _ := netip.ParseAddrPort(r.RemoteAddr)
	addr := peer.Addr().Unmap()
	trusted := false
	for _, p := range f.trusted {
		if addr.IsValid() && p.Contains(addr) {
			trusted = true
			break
		}
	}
	h := make(http.Header, len(r.Header)+3)
	for k, v := range r.Header {
		if isForwardingHeader(k) && (!trusted || strings.Contains(k, "_")) {
			continue
		}
		h[k] = v
	}
	xff := ""
	if addr.IsValid() {
		xff = addr.String()
	}
	if prior := strings.Join(h.Values("X-Forwarded-For"), ", "); trusted && prior != "" {
		xff = prior + ", " + xff
	}
	if xff != "" {
		h.Set("X-Forwarded-For", xff)
	} else {
		h.Del("X-Forwarded-For")
	}
	if h.Get("X-Forwarded-Host") == "" {
		h.Set("X-Forwarded-Host", r.Host)
	}
	if h.Get("X-Forwarded-Proto") == "" {
		proto := "http"
		if r.TLS != nil {
			proto = "https"
		}
		h.Set("X-Forwarded-Proto", proto)
	}
	r2 := r.WithContext(r.Context())
	r2.Header = h
	return r2
}
