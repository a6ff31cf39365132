//go:build wasip1

package main

import (
	"bytes"
	"errors"
	"strconv"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/plugin/internal/gate"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// The plugin's HTTP calls (a key refresh, a key bundle, an introspection, a
// sign-in's token request) share two steps, here: reading what the call
// brought back, in its callback, and finishing a request that waited on it.

// callHead is the head of a call's answer.
type callHead struct {
	status, contentType string
	headers             [][2]string // valid during the callback only
}

// header is the value of the answer's header name (lower case), or "".
func (h *callHead) header(name string) string {
	for _, kv := range h.headers {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

// readCallHead reads the head of the answer whose callback was given
// numHeaders; none means the call failed (the host answers a timeout, a
// connection failure or an unknown upstream that way).
func readCallHead(numHeaders int) (*callHead, error) {
	if numHeaders == 0 {
		return nil, errors.New("the call failed (timeout, connection failure, or no such upstream)")
	}
	headers, err := proxywasm.GetHTTPCallResponseHeaders()
	if err != nil {
		return nil, errors.New("reading the answer's headers: " + err.Error())
	}
	h := &callHead{headers: headers}
	h.status, h.contentType = h.header(":status"), h.header("content-type")
	return h, nil
}

// readCallBody copies the answer's body, which views host memory that is
// reused after the callback. Check its size before reading it.
func readCallBody(bodySize int) ([]byte, error) {
	body, err := proxywasm.GetHTTPCallResponseBody(bodySize)
	if err != nil {
		return nil, errors.New("reading the answer's body: " + err.Error())
	}
	return bytes.Clone(body), nil
}

// settle finishes, from a call's callback, a request that waited on the
// call: it makes the request the current context, takes the decision decide
// makes now, and answers the request or lets it go upstream. A panic fails
// the request closed with 500, as in the request-headers callback. It
// reports false when the request is gone (the client left).
func (s *stream) settle(why string, now time.Time, decide func() gate.Decision) bool {
	if err := proxywasm.SetEffectiveContext(s.id); err != nil {
		return false
	}
	defer func() {
		if r := recover(); r != nil {
			proxywasm.FailStream("finishing a request paused for "+why, r)
		}
	}()
	d := decide()
	proxywasm.LogDebug("request paused for " + why + " for " + strconv.FormatInt(now.Sub(s.arrived).Milliseconds(), 10) + " ms decided again")
	if s.finish(&d, now) == types.ActionContinue {
		if err := proxywasm.ResumeHTTPRequest(); err != nil {
			panic("resuming the request: " + err.Error())
		}
	}
	return true
}
