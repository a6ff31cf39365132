//go:build cgo && linux

package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/tokengate/tokengate/plugin/envoymodule/internal/dynmod"
	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// stream is what the request path needs from Envoy for one request; tests
// replace it with a recorder.
type stream interface {
	RequestHeaders(r *dynmod.HeaderReader, dst [][2]string) ([][2]string, error)
	RemoveHeader(name string) bool
	SetHeader(name, value string) bool
	ClearRouteCache()
	SendResponse(status int, headers [][2]string, body []byte)
	Log(l dynmod.Level, msg string)
	LogEnabled(l dynmod.Level) bool
}

// now is the clock; tests fix it.
var now = time.Now

// decide reads the request headers, asks the gate and applies its answer
// the way the Proxy-Wasm filter does (plugin/stream.go).
func (w *worker) decide(s stream) (status dynmod.HeadersStatus) {
	defer func() {
		// The gate never panics on any input; should it, the request is
		// refused and Envoy keeps running (the Wasm filter traps instead).
		if r := recover(); r != nil {
			status = internalError(s, "deciding (panic: "+fmt.Sprint(r)+")")
		}
	}()
	headers, err := s.RequestHeaders(&w.reader, w.headers)
	w.headers = headers
	if err != nil {
		// Fail closed: a request whose headers cannot be read is not let through.
		return internalError(s, "reading request headers: "+err.Error())
	}
	d := w.gate.Decide(&gate.Request{Headers: headers}, now())
	if d.DryRun && s.LogEnabled(dynmod.LevelInfo) {
		s.Log(dynmod.LevelInfo, "dry run: would deny with "+strconv.Itoa(d.Status)+": "+d.Reason+detail(&d))
	}
	if !d.Allow {
		if s.LogEnabled(dynmod.LevelInfo) {
			s.Log(dynmod.LevelInfo, "denied with "+strconv.Itoa(d.Status)+": "+d.Reason+detail(&d))
		}
		s.SendResponse(d.Status, d.Headers, d.Body)
		return dynmod.StopIteration
	}
	changed := false
	for _, name := range d.RemoveHeaders {
		if !s.RemoveHeader(name) {
			return internalError(s, "removing request header "+name)
		}
		changed = true
	}
	for _, h := range d.SetHeaders {
		if !s.SetHeader(h[0], h[1]) {
			return internalError(s, "setting request header "+h[0])
		}
		changed = true
	}
	if d.Path != "" {
		if !s.SetHeader(":path", d.Path) {
			return internalError(s, "setting :path")
		}
		changed = true
	}
	if changed {
		// As Envoy does after a Proxy-Wasm filter changes request headers:
		// the route is chosen on the request that goes upstream.
		s.ClearRouteCache()
	}
	return dynmod.Continue
}

// internalError fails a request closed when the decision could not be
// carried out (the Wasm filter traps, and Envoy answers 5xx).
func internalError(s stream, what string) dynmod.HeadersStatus {
	s.Log(dynmod.LevelError, "tokengate: "+what+" failed; the request is refused with 500")
	s.SendResponse(500, [][2]string{{"content-type", "text/plain"}}, []byte("internal error\n"))
	return dynmod.StopIteration
}

// detail is the log-only part of a refusal: what in the token it is about.
func detail(d *gate.Decision) string {
	if d.Detail == "" {
		return ""
	}
	return " (" + d.Detail + ")"
}

// envoyStream is the stream of an Envoy filter pointer.
type envoyStream dynmod.Filter

func (e envoyStream) RequestHeaders(r *dynmod.HeaderReader, dst [][2]string) ([][2]string, error) {
	return r.Read(dynmod.Filter(e), dst)
}
func (e envoyStream) RemoveHeader(name string) bool {
	return dynmod.RemoveRequestHeader(dynmod.Filter(e), name)
}
func (e envoyStream) SetHeader(name, value string) bool {
	return dynmod.SetRequestHeader(dynmod.Filter(e), name, value)
}
func (e envoyStream) ClearRouteCache() { dynmod.ClearRouteCache(dynmod.Filter(e)) }
func (e envoyStream) SendResponse(status int, headers [][2]string, body []byte) {
	dynmod.SendResponse(dynmod.Filter(e), status, headers, body)
}
func (envoyStream) Log(l dynmod.Level, msg string) { dynmod.Log(l, msg) }
func (envoyStream) LogEnabled(l dynmod.Level) bool { return dynmod.LogEnabled(l) }
