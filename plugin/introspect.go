//go:build wasip1

package main

import (
	"time"

	"github.com/tokengate/tokengate/plugin/internal/gate"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// Introspection (docs/configuration.md, "Introspection providers"). A
// request whose credential goes to an introspection provider, and whose
// answer is not in the gate's cache, is paused, not refused: the first one
// for a token sends the call to the provider's introspection endpoint, the
// next ones with the same token wait on that call. The call's callback hands
// the answer to the gate, which caches it, and decides every paused request
// again, then resumes it or answers it (503 when there was no answer).
// Nothing blocks: the VM serves other requests meanwhile, and the call's
// timeout bounds every wait.

// introspecting holds the requests waiting for an introspection answer on
// this VM, by context id, like paused does for key refreshes.
var introspecting = map[uint32]*stream{}

// introspect asks the gate whether the request decided d waits for an
// introspection answer and, if it does, sends the call when it is the first
// for its token and keeps the request's headers. It reports whether the
// request is paused.
func (s *stream) introspect(d *gate.Decision, headers [][2]string, now time.Time) bool {
	p := s.plugin
	step, call := p.gate.PlanIntrospection(d, s.id, now)
	switch step {
	case gate.IntrospectNone:
		return false
	case gate.IntrospectSend:
		key := call.Key
		_, err := proxywasm.DispatchHTTPCall(call.Upstream, call.Headers, call.Body, call.TimeoutMillis, func(numHeaders, bodySize, _ int) {
			p.introspected(key, numHeaders, bodySize)
		})
		if err != nil {
			proxywasm.LogWarn("cannot send the introspection request (" + key.String() + ") to " + call.Upstream +
				": " + err.Error() + "; is there an upstream (Envoy cluster) of that name?")
			p.gate.FinishIntrospection(key, nil, now) // this request was the only one waiting
			return false
		}
		proxywasm.LogDebug("introspection: request paused, asked " + call.Upstream + " (" + key.String() + ")")
	}
	s.paused = cloneHeaders(headers)
	s.arrived = now
	introspecting[s.id] = s
	return true
}

// introspected is the answer to the introspection call key: the gate caches
// it, and every request that waited is finished.
func (p *plugin) introspected(key gate.IntrospectionKey, numHeaders, bodySize int) {
	now := proxywasm.GetCurrentTime()
	ans, err := introspectionAnswer(numHeaders, bodySize)
	if err != nil {
		proxywasm.LogWarn("introspection (" + key.String() + "): " + err.Error() + "; the waiting requests get 503")
	}
	ids, ferr := p.gate.FinishIntrospection(key, ans, now)
	if ferr != nil && ans != nil {
		proxywasm.LogWarn(ferr.Error())
	}
	for _, id := range ids {
		s := introspecting[id]
		delete(introspecting, id)
		if s != nil && s.id == id && s.paused != nil {
			headers := s.paused
			s.paused = nil
			s.settle("introspection", now, func() gate.Decision { return p.gate.Decide(&gate.Request{Headers: headers}, now) })
		}
	}
}

// introspectionAnswer reads the call's answer as the proxy delivered it,
// or says why there is none.
func introspectionAnswer(numHeaders, bodySize int) (*gate.IntrospectionAnswer, error) {
	h, err := readCallHead(numHeaders)
	if err != nil {
		return nil, err
	}
	ans := &gate.IntrospectionAnswer{Status: h.status, ContentType: h.contentType}
	if ans.Body, err = readCallBody(bodySize); err != nil {
		return nil, err
	}
	return ans, nil
}
