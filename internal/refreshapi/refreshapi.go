// Package refreshapi is the one definition of the key-refresh request the
// plugin sends to the key fetcher when a token names a kid its provider's key
// set lacks: POST <Path>?provider=<name>&kid=<kid>. The plugin builds it
// (plugin/internal/gate), jwksfetch serves it (jwksfetch.AdminHandler), and
// tokengate-proxy routes it to its in-process fetcher under the upstream name
// Upstream. Both sides import this package, so they cannot drift apart.
//
// It has no dependencies beyond the standard library's strings, so that the
// Wasm module stays free of net/url.
package refreshapi

import (
	"errors"
	"strings"
)

const (
	// Path is the default path of the refresh endpoint.
	Path = "/refresh"
	// Method is the refresh request's method.
	Method = "POST"
	// Upstream is the default upstream (Envoy cluster, Go-host upstream) and
	// :authority of the fetcher.
	Upstream = "jwksfetch"

	paramProvider = "provider"
	paramKID      = "kid"
)

// ErrNoProvider means a refresh request did not name a provider.
var ErrNoProvider = errors.New("refreshapi: query parameter provider is required")

// Target returns path with the query that asks for provider's key set
// because of kid. Everything but unreserved characters is percent-encoded,
// so a kid chosen by a client cannot change the request.
func Target(path, provider, kid string) string {
	return path + "?" + paramProvider + "=" + escape(provider) + "&" + paramKID + "=" + escape(kid)
}

// Parse reads the provider and kid of a refresh request's raw query.
// Unknown parameters are ignored; a repeated one is an error.
func Parse(rawQuery string) (provider, kid string, err error) {
	seen := map[string]bool{}
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != paramProvider && k != paramKID {
			continue
		}
		if seen[k] {
			return "", "", errors.New("refreshapi: query parameter " + k + " given twice")
		}
		seen[k] = true
		d, ok := unescape(v)
		if !ok {
			return "", "", errors.New("refreshapi: query parameter " + k + " is not percent-encoded correctly")
		}
		if k == paramProvider {
			provider = d
		} else {
			kid = d
		}
	}
	if provider == "" {
		return "", "", ErrNoProvider
	}
	return provider, kid, nil
}

func escape(s string) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

func unescape(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, lo := unhex(s[i+1]), unhex(s[i+2])
			if hi < 0 || lo < 0 {
				return "", false
			}
			b = append(b, byte(hi<<4|lo))
			i += 2
		default:
			b = append(b, s[i])
		}
	}
	return string(b), true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
