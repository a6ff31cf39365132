package host

import (
	"strings"

	"github.com/tokengate/tokengate/internal/abi"
)

// headerMap returns map type t as the current context sees it, or nil when
// it is not available now: request maps before they arrived, response maps
// before the response, call-response maps outside
// proxy_on_http_call_response, gRPC metadata always (Envoy answers
// BAD_ARGUMENT for a map it does not have).
func (v *vm) headerMap(t uint32) *[][2]string {
	switch t {
	case abi.MapHTTPRequestHeaders, abi.MapHTTPRequestTrailers, abi.MapHTTPResponseHeaders, abi.MapHTTPResponseTrailers:
		if s := v.streamInScope(); s != nil && s.have[t] {
			return &s.hdr[t]
		}
	case abi.MapHTTPCallResponseHeaders:
		if v.callResp != nil {
			return &v.callResp.headers
		}
	case abi.MapHTTPCallResponseTrailers:
		if v.callResp != nil {
			return &v.callResp.trailers
		}
	}
	return nil
}

// Header names are case-insensitive; like Envoy's header maps, the host
// stores and compares them in lower case.

func lookup(hm [][2]string, k string) (string, bool) {
	k = strings.ToLower(k)
	for _, p := range hm {
		if p[0] == k {
			return p[1], true
		}
	}
	return "", false
}

func removeKey(hm *[][2]string, k string) {
	k = strings.ToLower(k)
	out := (*hm)[:0]
	for _, p := range *hm {
		if p[0] != k {
			out = append(out, p)
		}
	}
	*hm = out
}

func lowerKeys(pairs [][2]string) [][2]string {
	for i := range pairs {
		pairs[i][0] = lowerName(pairs[i][0])
	}
	return pairs
}

// decodePairsLikeEnvoy parses a guest pairs buffer. Envoy's toPairs turns a
// malformed buffer into an empty map without reporting it, so a bad buffer
// clears a map rather than failing the call; the host does the same.
func decodePairsLikeEnvoy(b []byte) [][2]string {
	pairs, err := abi.DecodePairs(b)
	if err != nil {
		return nil
	}
	return lowerKeys(pairs)
}
