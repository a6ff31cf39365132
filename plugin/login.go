//go:build wasip1

package main

import (
	"strconv"
	"time"

	"github.com/tokengate/tokengate/plugin/internal/gate"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// Browser sign-in (docs/configuration.md, "Sign-in"). The gate answers the
// steps it can answer at once (the redirect to the provider, a refused
// callback or cookie, the logout) like any refusal. Two steps need the
// provider's token endpoint: the callback's code exchange and a session's
// refresh. Their request is paused, not the VM: the first request for a
// call sends it, requests due for the same refresh wait on it, and the
// call's callback hands the answer to the gate and answers every request
// that waited with the decision the gate made for it (a redirect with the
// session cookie, a 307 that repeats the request with the refreshed
// cookie, or a refusal). The call's timeout bounds every wait. Sign-ins
// draw their randomness from WASI random_get (session.SystemRandom), which
// every supported Envoy provides; when it fails the sign-in is answered
// with 503.

// signingIn holds the requests waiting for a token endpoint call on this
// VM, by context id, like paused does for key refreshes.
var signingIn = map[uint32]*stream{}

// signIn asks the gate whether the request decided d waits for a token
// endpoint call and, if it does, sends the call when it is the first with
// its key. It reports whether the request is paused; when it is not, d is
// the answer.
func (s *stream) signIn(d *gate.Decision, now time.Time) bool {
	p := s.plugin
	step, call := p.gate.PlanLogin(d, s.id, now)
	switch step {
	case gate.LoginNone:
		return false
	case gate.LoginSend:
		key := call.Key
		_, err := proxywasm.DispatchHTTPCall(call.Upstream, call.Headers, call.Body, call.TimeoutMillis, func(numHeaders, bodySize, _ int) {
			p.loginAnswered(key, numHeaders, bodySize)
		})
		if err != nil {
			proxywasm.LogWarn("sign-in: cannot send the request to provider " + d.Provider + "'s token endpoint through " + call.Upstream +
				": " + err.Error() + "; is there an upstream (Envoy cluster) of that name?")
			// This request is the only one waiting: it gets the answer of a
			// call without an answer.
			for _, r := range p.gate.FinishLogin(key, nil, now) {
				if r.ID == s.id {
					*d = r.Decision
				}
			}
			return false
		}
		proxywasm.LogDebug("sign-in: request paused, asked provider " + d.Provider + "'s token endpoint through " + call.Upstream)
	}
	s.arrived = now
	signingIn[s.id] = s
	return true
}

// loginAnswered is the token endpoint's answer to the call key: the gate
// decides every request that waited on it, and each is answered.
func (p *plugin) loginAnswered(key string, numHeaders, bodySize int) {
	now := proxywasm.GetCurrentTime()
	ans, problem := loginAnswer(numHeaders, bodySize)
	if problem != "" {
		proxywasm.LogWarn("sign-in: the token endpoint call failed: " + problem)
	}
	for _, r := range p.gate.FinishLogin(key, ans, now) {
		s := signingIn[r.ID]
		delete(signingIn, r.ID)
		if s != nil && s.id == r.ID {
			// Every decision of a sign-in step is a local response.
			s.settle("the token endpoint", now, func() gate.Decision { return r.Decision })
		}
	}
}

// maxLoginAnswer bounds the token endpoint answer the module copies.
const maxLoginAnswer = 64 << 10

// loginAnswer reads the call's answer as the proxy delivered it, or says
// why there is none (the gate then answers as for a failed call).
func loginAnswer(numHeaders, bodySize int) (*gate.LoginAnswer, string) {
	h, err := readCallHead(numHeaders)
	if err != nil {
		return nil, err.Error()
	}
	if bodySize > maxLoginAnswer {
		return nil, "an answer of " + strconv.Itoa(bodySize) + " bytes, more than " + strconv.Itoa(maxLoginAnswer)
	}
	ans := &gate.LoginAnswer{ContentType: h.contentType}
	ans.Status, _ = strconv.Atoi(h.status)
	if ans.Body, err = readCallBody(bodySize); err != nil {
		return nil, err.Error()
	}
	return ans, ""
}
