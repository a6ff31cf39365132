//go:build cgo && linux

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/plugin/envoymodule/internal/dynmod"
	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// stream is what the request path needs from Envoy for one request; tests
// replace it with a recorder.
type stream interface {
	// RequestHeaders returns the request headers, pointing into Envoy's
	// memory (dynmod.HeaderReader.Read).
	RequestHeaders(dst [][2]string) ([][2]string, error)
	// Borrowed reports whether s points into that memory.
	Borrowed(s string) bool
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
	headers, err := s.RequestHeaders(w.headers)
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
	if borrows(s, &d) {
		d = detached(s, d)
	}
	changed := false
	for _, name := range d.RemoveHeaders {
		if d.Replaces(name) {
			continue // setting it replaces every value it had
		}
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

// borrows reports whether a change the decision asks for names a header or
// value by a string that points into Envoy's header map (a header name or
// the path taken from the request): Envoy must not be handed its own
// memory, which the first change can free.
func borrows(s stream, d *gate.Decision) bool {
	if s.Borrowed(d.Path) {
		return true
	}
	for _, name := range d.RemoveHeaders {
		if s.Borrowed(name) {
			return true
		}
	}
	for _, h := range d.SetHeaders {
		if s.Borrowed(h[0]) || s.Borrowed(h[1]) {
			return true
		}
	}
	return false
}

// detached returns d with its changes copied into Go memory. The
// decision's slices may be shared with the gate's cache, so they are
// copied, never changed in place.
func detached(s stream, d gate.Decision) gate.Decision {
	own := func(v string) string {
		if s.Borrowed(v) {
			return strings.Clone(v)
		}
		return v
	}
	d.Path = own(d.Path)
	rm := make([]string, len(d.RemoveHeaders))
	for i, name := range d.RemoveHeaders {
		rm[i] = own(name)
	}
	set := make([][2]string, len(d.SetHeaders))
	for i, h := range d.SetHeaders {
		set[i] = [2]string{own(h[0]), own(h[1])}
	}
	d.RemoveHeaders, d.SetHeaders = rm, set
	return d
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

// envoyStream is the stream of the request Envoy is calling the filter for:
// its filter pointer, and the worker's header reader.
type envoyStream struct {
	f      dynmod.Filter
	reader dynmod.HeaderReader
}

func (e *envoyStream) RequestHeaders(dst [][2]string) ([][2]string, error) {
	return e.reader.Read(e.f, dst)
}
func (e *envoyStream) Borrowed(s string) bool { return e.reader.Borrowed(s) }
func (e *envoyStream) RemoveHeader(name string) bool {
	return dynmod.RemoveRequestHeader(e.f, name)
}
func (e *envoyStream) SetHeader(name, value string) bool {
	return dynmod.SetRequestHeader(e.f, name, value)
}
func (e *envoyStream) ClearRouteCache() { dynmod.ClearRouteCache(e.f) }
func (e *envoyStream) SendResponse(status int, headers [][2]string, body []byte) {
	dynmod.SendResponse(e.f, status, headers, body)
}
func (*envoyStream) Log(l dynmod.Level, msg string) { dynmod.Log(l, msg) }
func (*envoyStream) LogEnabled(l dynmod.Level) bool { return dynmod.LogEnabled(l) }
