//go:build wasip1

package main

import (
	"strconv"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/plugin/internal/gate"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// stream is one HTTP request: the request path, from the request headers
// to the gate's decision and back to the proxy.
type stream struct {
	types.DefaultHttpContext
	plugin *plugin
}

func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	return s.decide(requestHeaders())
}

// requestHeaders reads every request header with one host call.
func requestHeaders() [][2]string {
	headers, err := proxywasm.GetHTTPRequestHeaders()
	if err != nil {
		// Fail closed: a request whose headers cannot be read is not let through.
		panic("reading request headers: " + err.Error())
	}
	return headers
}

func (s *stream) decide(headers [][2]string) types.Action {
	start := proxywasm.GetCurrentTime()
	d := s.plugin.gate.Decide(&gate.Request{Headers: headers}, start)
	s.plugin.metrics.Count(&d, start)
	if d.DryRun {
		proxywasm.LogInfo("dry run: would deny with " + strconv.Itoa(d.Status) + ": " + d.Reason + detail(&d))
	}
	if !d.Allow {
		proxywasm.LogInfo("denied with " + strconv.Itoa(d.Status) + ": " + d.Reason + detail(&d))
		if call, ok := s.plugin.gate.RefreshFor(&d, start); ok {
			requestRefresh(call, d.Provider)
		}
		if err := proxywasm.SendHTTPResponse(uint32(d.Status), d.Headers, d.Body); err != nil {
			panic("sending the local response: " + err.Error())
		}
		return types.ActionPause
	}
	for _, name := range d.RemoveHeaders {
		mustHeader(proxywasm.RemoveHTTPRequestHeader(name))
	}
	for _, h := range d.SetHeaders {
		mustHeader(proxywasm.ReplaceHTTPRequestHeader(h[0], h[1]))
	}
	if d.Path != "" {
		mustHeader(proxywasm.ReplaceHTTPRequestHeader(":path", d.Path))
	}
	return types.ActionContinue
}

// detail is the log-only part of a refusal: what in the token it is about.
func detail(d *gate.Decision) string {
	if d.Detail == "" {
		return ""
	}
	return " (" + d.Detail + ")"
}

// requestRefresh asks the key fetcher, fire and forget, for a new key set of
// provider. The refused request does not wait for it.
func requestRefresh(call gate.RefreshCall, provider string) {
	_, err := proxywasm.DispatchHTTPCall(call.Upstream, call.Headers, nil, call.TimeoutMillis, func(numHeaders, _, _ int) {
		if numHeaders == 0 {
			proxywasm.LogWarn("key refresh request for provider " + provider + " to " + call.Upstream + " failed")
		}
	})
	if err != nil {
		proxywasm.LogWarn("cannot send the key refresh request for provider " + provider + " to " + call.Upstream + ": " + err.Error())
	} else {
		proxywasm.LogInfo("asked " + call.Upstream + " to refresh the keys of provider " + provider)
	}
}

// mustHeader fails the request closed when a header mutation the decision
// depends on (removing the token, setting a verified claim) did not happen.
func mustHeader(err error) {
	if err != nil {
		panic("changing request headers: " + err.Error())
	}
}
