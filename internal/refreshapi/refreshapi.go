// Package refreshapi is the one definition of the key-refresh exchange
// between the plugin and the key fetcher. When a token names a kid its
// provider's key set lacks, the plugin pauses the request and sends
// POST <Path>?provider=<name>&kid=<kid>; the fetcher fetches the provider's
// key set (at most once per interval, coalesced), waits for that fetch (at
// most MaxWait), and answers 200 with the key set now in force as the body
// (ContentType). The plugin installs that set and decides the paused request
// again. For one tenant of a multi-tenant provider the request also names
// the tenant, and the answer says whose key set it is (tenant.go). The
// plugin builds the request and reads the answer
// (plugin/internal/gate, plugin/stream.go), jwksfetch serves it
// (jwksfetch.AdminHandler), and tokengate-proxy routes it to its in-process
// fetcher under the upstream name Upstream. Both sides import this package,
// so they cannot drift apart.
//
//	target := refreshapi.Target(refreshapi.Path, "corp", kid) // the plugin's request
//	err := refreshapi.CheckAnswer(status, contentType, size) // the plugin's check of the answer
//
// It has no dependencies beyond the standard library's strings and time and
// gjson (which the plugin links anyway), so that the Wasm module stays free
// of net/url.
package refreshapi

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

const (
	// Path is the default path of the refresh endpoint.
	Path = "/refresh"
	// Method is the refresh request's method.
	Method = "POST"
	// Upstream is the default upstream (Envoy cluster, Go-host upstream) and
	// :authority of the fetcher.
	Upstream = "jwksfetch"

	// ContentType is the media type of the answer's body, the provider's
	// key set (RFC 7517 §8.5.1).
	ContentType = "application/jwk-set+json"
	// OutcomeHeader names, in the answer, what the fetcher did with the
	// request (scheduled, known_kid, unknown_kid, rate_limited), for logs.
	OutcomeHeader = "jwksfetch-refresh-outcome"
	// MaxWait bounds how long the fetcher holds a refresh request while the
	// fetch it started or joined runs; then it answers with the key set in
	// force, which may still lack the kid.
	MaxWait = 5 * time.Second
	// MaxKeySetBytes bounds the answer's body, like the fetcher bounds the
	// key sets it fetches.
	MaxKeySetBytes = 1 << 20

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
// Unknown parameters are ignored; a repeated one is an error. A request
// about one tenant of a multi-tenant provider also names the tenant, which
// Parse leaves out: a fetcher that serves such providers reads requests
// with ParseRequest.
func Parse(rawQuery string) (provider, kid string, err error) {
	r, err := ParseRequest(rawQuery)
	return r.Provider, r.KID, err
}

// parse reads the provider, tenant and kid of a raw query.
func parse(rawQuery string) (provider, tenant, kid string, err error) {
	seen := map[string]bool{}
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != paramProvider && k != paramKID && k != paramTenant {
			continue
		}
		if seen[k] {
			return "", "", "", errors.New("refreshapi: query parameter " + k + " given twice")
		}
		seen[k] = true
		d, ok := unescape(v)
		if !ok {
			return "", "", "", errors.New("refreshapi: query parameter " + k + " is not percent-encoded correctly")
		}
		switch k {
		case paramProvider:
			provider = d
		case paramTenant:
			tenant = d
		default:
			kid = d
		}
	}
	if provider == "" {
		return "", "", "", ErrNoProvider
	}
	return provider, tenant, kid, nil
}

// CheckAnswer checks the status, content type and body size of the
// fetcher's answer before the plugin reads the body: only a 200 with a
// ContentType body of 1 to MaxKeySetBytes bytes carries a key set. The set
// itself is then read by the plugin's strict key-set reader, like any other.
func CheckAnswer(status, contentType string, size int) error {
	if status != "200" {
		return errors.New("refreshapi: the fetcher answered " + strconv.Quote(status) + ", not 200 with a key set")
	}
	if mt, _, _ := strings.Cut(contentType, ";"); !strings.EqualFold(strings.TrimSpace(mt), ContentType) {
		return errors.New("refreshapi: the answer's content-type is " + strconv.Quote(contentType) + ", want " + ContentType + " (is the upstream really jwksfetch?)")
	}
	if size <= 0 || size > MaxKeySetBytes {
		return errors.New("refreshapi: the answer's body has " + strconv.Itoa(size) + " bytes, want 1 to " + strconv.Itoa(MaxKeySetBytes))
	}
	return nil
}

// EnableByDefault returns config with "refresh": {"cluster": Upstream} added
// at the top level when it has no "refresh" member: where the proxy is known
// to reach a fetcher under that name (tokengate-proxy's in-process fetcher,
// the jwksfetch cluster of the Envoy bootstrap), rotation works without
// anyone writing it. A configuration that says "refresh" (an object, or
// false to turn it off) is returned as it is, and so is one that is not a
// JSON object (the plugin refuses it with a better error).
func EnableByDefault(config []byte) []byte {
	trimmed := strings.TrimSpace(string(config))
	if !strings.HasPrefix(trimmed, "{") || !gjson.Valid(trimmed) || gjson.Get(trimmed, paramRefresh).Exists() {
		return config
	}
	member := `"` + paramRefresh + `":{"cluster":"` + Upstream + `"}`
	rest := strings.TrimSpace(trimmed[1:])
	if rest != "}" {
		member += ","
	}
	return []byte("{" + member + rest)
}

const paramRefresh = "refresh"

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
