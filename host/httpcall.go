package host

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/internal/abi"
)

// maxCallResponseBytes bounds an HTTP-call response body; a larger one is
// delivered as a failed call.
const maxCallResponseBytes = 16 << 20

type upstream struct {
	base *url.URL
	rt   http.RoundTripper
}

// callResponse is what proxy_on_http_call_response can read: maps 6 and 7
// and buffer 4.
type callResponse struct {
	headers, trailers [][2]string
	body              []byte
}

// httpCall implements proxy_http_call for v's root context, as Envoy does
// (the call always belongs to the root context, whichever context makes it).
// An unknown upstream, or headers without :method, :path or :authority, is
// BAD_ARGUMENT. The answer is posted to v as an event.
func (v *vm) httpCall(name string, hdrs [][2]string, body []byte, trailers [][2]string, timeoutMS uint32) (uint32, abi.Status) {
	up, ok := v.p.cfg.upstreams[name]
	if !ok {
		v.log(abi.LogWarn, "proxy_http_call: no upstream named "+strconv.Quote(name)+"; the host offers it with host.WithUpstream")
		return 0, abi.StatusBadArgument
	}
	method, okM := lookup(hdrs, ":method")
	path, okP := lookup(hdrs, ":path")
	authority, okA := lookup(hdrs, ":authority")
	if !okM || !okP || !okA || method == "" || path == "" {
		return 0, abi.StatusBadArgument
	}
	target := *up.base
	rel, err := url.Parse(path)
	if err != nil || !strings.HasPrefix(path, "/") {
		return 0, abi.StatusBadArgument
	}
	target.Path = strings.TrimSuffix(up.base.Path, "/") + rel.Path
	target.RawPath = ""
	target.RawQuery = rel.RawQuery
	v.httpToken++
	if v.httpToken == 0 {
		v.httpToken++
	}
	tok, root := v.httpToken, v.rootID
	// The call runs beyond the callback that made it; it is bound to the
	// VM's life and, like Envoy's async client, to timeout_ms when non-zero.
	ctx, cancel := v.life, context.CancelFunc(func() {})
	if timeoutMS > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(timeoutMS)*time.Millisecond)
	}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), bytes.NewReader(body))
	if err != nil {
		cancel()
		return 0, abi.StatusBadArgument
	}
	req.Host = authority
	for _, h := range hdrs {
		if !strings.HasPrefix(h[0], ":") && h[0] != "host" {
			req.Header.Add(h[0], h[1])
		}
	}
	if len(trailers) > 0 {
		req.Trailer = http.Header{}
		for _, t := range trailers {
			req.Trailer.Add(t[0], t[1])
		}
		req.ContentLength = -1
	}
	v.addOutstanding()
	go func() {
		defer cancel()
		resp := roundTrip(up.rt, req)
		v.post(event{kind: evHTTPResponse, ctxID: root, token: tok, resp: resp})
		v.kick()
	}()
	return tok, abi.StatusOK
}

func roundTrip(rt http.RoundTripper, req *http.Request) *callResponse {
	res, err := rt.RoundTrip(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxCallResponseBytes+1))
	if err != nil || len(body) > maxCallResponseBytes {
		return nil
	}
	cr := &callResponse{body: body, headers: [][2]string{{":status", strconv.Itoa(res.StatusCode)}}}
	cr.headers = append(cr.headers, headerPairs(res.Header)...)
	cr.trailers = headerPairs(res.Trailer)
	return cr
}

// headerPairs flattens h into lower-case pairs in a stable order.
func headerPairs(h http.Header) [][2]string { return appendHeaderPairs(nil, h) }

// appendHeaderPairs appends h to out as lower-case pairs, names sorted.
func appendHeaderPairs(out [][2]string, h http.Header) [][2]string {
	var buf [32]string // the names of a usual request, without allocating
	keys := buf[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		lk := lowerName(k)
		for _, val := range h[k] {
			out = append(out, [2]string{lk, val})
		}
	}
	return out
}

// deliverHTTPResponse calls proxy_on_http_call_response with the response
// readable through maps 6/7 and buffer 4 for the duration of the call. A
// failed call (transport error, timeout, oversized body) is reported with
// num_headers 0, as Envoy does.
func (v *vm) deliverHTTPResponse(e event) error {
	nh, nb, nt := 0, 0, 0
	if e.resp != nil {
		nh, nb, nt = len(e.resp.headers), len(e.resp.body), len(e.resp.trailers)
		v.callResp = e.resp
	}
	_, err := v.call(e.ctxID, "proxy_on_http_call_response", uint64(e.ctxID), uint64(e.token), uint64(nh), uint64(nb), uint64(nt))
	v.callResp = nil
	return err
}
