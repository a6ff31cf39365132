package host

import (
	"net/http"
	"strings"
)

// Header names cross between net/http, which keys its maps by canonical
// names ("X-Forwarded-For"), and Proxy-Wasm, whose maps hold lower-case
// ones ("x-forwarded-for"), twice per request: every name of the request on
// the way to the plugin and back. Each conversion of a name with a letter
// in the wrong case allocates a new string. commonNames holds both spellings
// of the names most requests carry, so that converting them allocates
// nothing; any other name is converted as before.
var commonNames = []string{
	"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
	"Cache-Control", "Connection", "Content-Encoding", "Content-Length", "Content-Type", "Cookie",
	"Forwarded", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "Origin", "Pragma",
	"Priority", "Range", "Referer", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform",
	"Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-User", "Te", "Traceparent",
	"Tracestate", "Upgrade", "Upgrade-Insecure-Requests", "User-Agent", "Via",
	"X-B3-Parentspanid", "X-B3-Sampled", "X-B3-Spanid", "X-B3-Traceid", "X-Correlation-Id",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix",
	"X-Forwarded-Proto", "X-Real-Ip", "X-Request-Id", "X-Requested-With",
}

var (
	lowerOf     = make(map[string]string, len(commonNames)) // canonical → lower case
	canonicalOf = make(map[string]string, len(commonNames)) // lower case → canonical
)

func init() {
	for _, c := range commonNames {
		l := strings.ToLower(c)
		lowerOf[c], canonicalOf[l] = l, c
	}
}

// lowerName returns name in lower case, as Proxy-Wasm maps hold it.
func lowerName(name string) string {
	if l, ok := lowerOf[name]; ok {
		return l
	}
	return strings.ToLower(name)
}

// canonicalName returns name as net/http keys it (http.CanonicalHeaderKey).
func canonicalName(name string) string {
	if c, ok := canonicalOf[name]; ok {
		return c
	}
	return http.CanonicalHeaderKey(name)
}
