//go:build wasip1

package main

import (
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/internal/refreshapi"
	"github.com/tokengate/tokengate/plugin/internal/gate"
	"github.com/tokengate/tokengate/plugin/internal/metrics"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// stream is one HTTP request: the request path, from the request headers
// to the gate's decision and back to the proxy.
type stream struct {
	types.DefaultHttpContext
	plugin *plugin
	id     uint32 // the host's context id, by which a paused request is resumed

	// While the request waits for a key refresh: its headers (cloned: the
	// binding's are valid only during the callback) and when it arrived.
	paused  [][2]string
	arrived time.Time
}

// identified is a stream of any kind (plain or hooked) that can be told its
// context id.
type identified interface{ setID(uint32) }

func (s *stream) setID(id uint32) { s.id = id }

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
	if !d.Allow && d.UnknownKID && s.pause(&d, headers, start) {
		return types.ActionPause
	}
	if d.Introspect != nil && s.introspect(&d, headers, start) { // introspect.go
		return types.ActionPause
	}
	if d.Login != nil && s.signIn(&d, start) { // a sign-in step waiting for the token endpoint (login.go)
		return types.ActionPause
	}
	return s.finish(&d, start)
}

// finish carries a decision out: the local response of a refusal (then
// ActionPause: the request goes no further), or the changes to the request
// that goes upstream (ActionContinue).
func (s *stream) finish(d *gate.Decision, start time.Time) types.Action {
	s.plugin.metrics.Count(d, start)
	if d.DryRun {
		proxywasm.LogInfo("dry run: would deny with " + strconv.Itoa(d.Status) + ": " + d.Reason + detail(d))
	}
	if !d.Allow {
		proxywasm.LogInfo("denied with " + strconv.Itoa(d.Status) + ": " + d.Reason + detail(d))
		if err := proxywasm.SendHTTPResponse(uint32(d.Status), d.Headers, d.Body); err != nil {
			panic("sending the local response: " + err.Error())
		}
		return types.ActionPause
	}
	for _, name := range d.RemoveHeaders {
		if !d.Replaces(name) {
			mustHeader(proxywasm.RemoveHTTPRequestHeader(name))
		}
	}
	for _, h := range d.SetHeaders {
		mustHeader(proxywasm.ReplaceHTTPRequestHeader(h[0], h[1]))
	}
	if d.Path != "" {
		mustHeader(proxywasm.ReplaceHTTPRequestHeader(":path", d.Path))
	}
	for _, p := range d.FilterState {
		if err := proxywasm.SetProperty(p[0], p[1]); err != nil {
			// Fail closed: the filters after this one would judge the
			// request without who is calling.
			panic("setting the filter state " + p[0] + ": " + err.Error())
		}
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

// mustHeader fails the request closed when a header mutation the decision
// depends on (removing the token, setting a verified claim) did not happen.
func mustHeader(err error) {
	if err != nil {
		panic("changing request headers: " + err.Error())
	}
}

// Key refresh (docs/configuration.md, "refresh"; RATIONALE.md). A request
// refused only because its token names a kid its provider's key set lacks
// is paused, not refused, when the gate says so: the first one sends the
// refresh call to the fetcher, the next ones of the same provider wait on
// that call. The call's callback installs the key set the fetcher answered
// with and decides every paused request again, then resumes it or answers
// it. Nothing blocks: the VM serves other requests meanwhile, and the call's
// timeout bounds every wait (the host answers a call that timed out as
// failed, and then the requests get the refusal they would have got).

// paused holds the requests waiting for a key refresh on this VM, by context
// id. It is VM state like the binding's context maps: context ids are unique
// within a VM, whichever plugin context a request belongs to.
var paused = map[uint32]*stream{}

// pause asks the gate whether the request refused with d waits for a key
// refresh and, if it does, sends the refresh call when it is the first and
// keeps the request's headers. It reports whether the request is paused.
func (s *stream) pause(d *gate.Decision, headers [][2]string, now time.Time) bool {
	p := s.plugin
	step, call := p.gate.PlanRefresh(d, s.id, now)
	switch step {
	case gate.RefreshNone:
		return false
	case gate.RefreshSend:
		provider, tenant := d.Provider, d.Tenant // a tenant of a multi-tenant provider has a key set of its own
		_, err := proxywasm.DispatchHTTPCall(call.Upstream, call.Headers, nil, call.TimeoutMillis, func(numHeaders, bodySize, _ int) {
			p.refreshed(provider, tenant, numHeaders, bodySize)
		})
		if err != nil {
			proxywasm.LogWarn("cannot send the key refresh request for " + keySetOf(provider, tenant) + " to " + call.Upstream +
				": " + err.Error() + "; is there an upstream (Envoy cluster) of that name?")
			p.gate.FinishTenantRefresh(provider, tenant, nil, now) // this request was the only one waiting
			return false
		}
		proxywasm.LogInfo("token for " + keySetOf(provider, tenant) + " names an unknown kid: request paused, asked " + call.Upstream + " for its keys")
	}
	s.paused = cloneHeaders(headers)
	s.arrived = now
	paused[s.id] = s
	p.metrics.Paused()
	return true
}

// keySetOf names, for logs, the key set of provider, or of one tenant of a
// multi-tenant provider.
func keySetOf(provider, tenant string) string {
	if tenant == "" {
		return "provider " + provider
	}
	return "provider " + provider + " (tenant " + tenant + ")"
}

// refreshed is the answer to the refresh call for provider (and tenant,
// for a multi-tenant provider): it installs the key set the fetcher sent, if
// any, and finishes every request that waited.
func (p *plugin) refreshed(provider, tenant string, numHeaders, bodySize int) {
	now := proxywasm.GetCurrentTime()
	jwks, err := p.refreshAnswer(provider, tenant, numHeaders, bodySize, now) // a key set, or a signed bundle (bundle.go)
	if err != nil {
		proxywasm.LogWarn("key refresh for " + keySetOf(provider, tenant) + " failed, keeping its keys: " + err.Error())
	}
	ids, warnings, err := p.gate.FinishTenantRefresh(provider, tenant, jwks, now)
	for _, w := range warnings {
		proxywasm.LogWarn("key refresh for " + keySetOf(provider, tenant) + ": " + w)
	}
	if err != nil {
		proxywasm.LogWarn(err.Error())
	} else if jwks != nil {
		proxywasm.LogInfo("key refresh: installed the fetcher's key set for " + keySetOf(provider, tenant))
	}
	for _, id := range ids {
		s := paused[id]
		delete(paused, id)
		if s != nil && s.id == id && s.paused != nil {
			s.resume(now, numHeaders == 0)
		} else {
			p.metrics.Resumed(metrics.PauseAbandoned, 0)
		}
	}
}

// keySet reads the fetcher's answer: the key set, or why there is none. An
// answer about a tenant must say it is that tenant's (refreshapi.CheckTenant).
func keySet(numHeaders, bodySize int, tenant string) ([]byte, error) {
	h, err := readCallHead(numHeaders)
	if err != nil {
		return nil, err
	}
	if err := refreshapi.CheckAnswer(h.status, h.contentType, bodySize); err != nil {
		return nil, err
	}
	if err := refreshapi.CheckTenant(tenant, h.header(refreshapi.TenantHeader)); err != nil {
		return nil, err
	}
	return readCallBody(bodySize)
}

// resume decides a paused request again, with the keys the refresh left in
// force, and lets it go upstream or answers it; unanswered says the call
// brought no answer.
func (s *stream) resume(now time.Time, unanswered bool) {
	headers := s.paused
	s.paused = nil
	settled := s.settle("a key refresh", now, func() gate.Decision {
		d := s.plugin.gate.Decide(&gate.Request{Headers: headers}, now)
		outcome := metrics.PauseAllowed
		switch {
		case d.Allow:
		case unanswered:
			outcome = metrics.PauseTimedOut
		default:
			outcome = metrics.PauseDenied
		}
		s.plugin.metrics.Resumed(outcome, now.Sub(s.arrived))
		return d
	})
	if !settled {
		s.plugin.metrics.Resumed(metrics.PauseAbandoned, 0)
	}
}

// cloneHeaders copies headers and their strings, which view host memory
// that is reused after the callback.
func cloneHeaders(headers [][2]string) [][2]string {
	out := make([][2]string, len(headers))
	for i, h := range headers {
		out[i] = [2]string{strings.Clone(h[0]), strings.Clone(h[1])}
	}
	return out
}
