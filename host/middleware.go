package host

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tokengate/tokengate/internal/abi"
)

// Middleware runs each exchange through the plugin in Envoy's order:
// request headers, then (only if the plugin has those callbacks) request
// body chunks and trailers while next reads them, response headers when
// next writes them, response body chunks and trailers. A local response
// from the plugin replaces the exchange; proxy_close_stream aborts it. A
// trap, a pool failure or a pause the plugin never resumes answers 500
// unless WithFailOpen(true) was given (then next serves the original
// request, as Envoy's FAIL_OPEN skips the filter).
//
// Bodies stream through untouched when the plugin has no body callbacks;
// otherwise each chunk is offered to it, and the data it asks to buffer is
// held up to WithMaxBodyBytes.
//
// The VM is held only while the plugin can still act on the exchange. A
// module that exports no response callback and no proxy_on_log (see
// responseCallbacks; decided from its exports at Load) cannot see anything
// after the request, so its stream ends (proxy_on_done, proxy_on_delete) and
// its VM returns to the pool once the request has passed the plugin
// (headers, and the body and trailers if it filters them), before next
// answers: a slow upstream then costs no VM, and a pool of n VMs serves any
// number of requests waiting upstream. Otherwise the stream ends when next
// returns, as in Envoy.
//
// Hop-by-hop headers, and every header the request's Connection header
// names, are removed before the plugin sees the request (as Envoy does), so
// a proxy used as next cannot remove a header the plugin set: see
// withoutHopByHop for the list and its two exceptions.
func (p *Plugin) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withoutHopByHop(r)
		s, err := p.NewStream(r.Context())
		if err != nil {
			p.fail(w, r, next, err)
			return
		}
		defer p.end(s)
		s.SetConnection(connectionOf(r))
		noBody := r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0
		// requestPairs is a fresh slice: the stream may keep it, uncopied.
		res, err := s.headers(abi.MapHTTPRequestHeaders, "proxy_on_request_headers", requestPairs(r), noBody, false)
		switch {
		case err != nil:
			p.fail(w, r, next, err)
			return
		case res.Local != nil:
			writeLocal(w, res.Local)
			return
		case res.Reset:
			panic(http.ErrAbortHandler)
		case res.Paused:
			p.fail(w, r, next, errPaused)
			return
		}
		r2, err := rebuildRequest(r, res.Headers)
		if err != nil {
			p.fail(w, r, next, err)
			return
		}
		x := &exchange{p: p, s: s}
		if !noBody && (p.exports["proxy_on_request_body"] || p.exports["proxy_on_request_trailers"]) {
			r2.Body = &requestBody{x: x, src: r.Body, trailer: r.Trailer, trailerOut: r2.Trailer,
				filter: p.exports["proxy_on_request_body"], endStream: !p.untilResponse}
			r2.ContentLength = -1
			r2.Header.Del("Content-Length")
		}
		if !p.untilResponse && r2.Body == r.Body {
			// The plugin has seen all it will see of this exchange: end
			// the stream now, as Envoy would at its end, and give the VM
			// back before the upstream is asked.
			p.end(s)
			next.ServeHTTP(w, r2)
			return
		}
		rw := &responseFilter{x: x, w: w, head: r.Method == http.MethodHead}
		next.ServeHTTP(rw, r2)
		rw.finish()
	})
}

// responseCallbacks are the exports that need a stream's VM until the
// response is over: the response filters, and proxy_on_log, which Envoy
// calls once the exchange is complete (an access log wants its outcome and
// duration). A module exporting none of them is done with a stream once
// its request is (headers, and body and trailers if it filters them), and
// Middleware ends the stream then: proxy_on_done, proxy_on_delete (and the
// VM goes back to the pool) before next runs, rather than when next returns.
var responseCallbacks = []string{"proxy_on_response_headers", "proxy_on_response_body",
	"proxy_on_response_trailers", "proxy_on_log"}

// end closes s once; a trap while ending it discards the VM (Close does)
// but cannot change the answer any more.
func (p *Plugin) end(s *Stream) {
	if err := s.Close(); err != nil {
		p.cfg.logger.Error("plugin failed while ending a stream; its VM is discarded", "err", err)
	}
}

// exchange is what the request-body reader and the response writer share.
type exchange struct {
	p  *Plugin
	s  *Stream
	mu sync.Mutex
	// local is a response the plugin sent while next was running.
	local *LocalResponse
	// failed is set when the plugin failed while next was running.
	failed bool
}

func (x *exchange) takeOver() (local *LocalResponse, failed bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.local, x.failed
}

var (
	errPaused   = errors.New("host: plugin paused the request and did not resume it")
	errTooLarge = errors.New("host: body exceeds the limit the plugin may buffer (WithMaxBodyBytes)")
	errStopped  = errors.New("host: plugin ended the exchange")
)

func (p *Plugin) fail(w http.ResponseWriter, r *http.Request, next http.Handler, err error) {
	p.cfg.logger.Error("plugin failed", "err", err, "fail_open", p.cfg.failOpen)
	if p.cfg.failOpen {
		next.ServeHTTP(w, r)
		return
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}

func writeLocal(w http.ResponseWriter, l *LocalResponse) {
	for _, h := range l.Headers {
		w.Header().Add(h[0], h[1])
	}
	w.WriteHeader(l.Status)
	w.Write(l.Body)
}

func requestPairs(r *http.Request) [][2]string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	n := 4
	for _, v := range r.Header {
		n += len(v)
	}
	hs := make([][2]string, 0, n)
	hs = append(hs, [2]string{":method", r.Method}, [2]string{":path", r.URL.RequestURI()},
		[2]string{":authority", r.Host}, [2]string{":scheme", scheme})
	return appendHeaderPairs(hs, r.Header)
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// rebuildRequest applies the plugin's request headers, pseudo-headers
// included, to a copy of r. The copy is shallow but for what it changes
// (URL, Header, Trailer): r's headers are replaced wholesale, so cloning
// them first, as Request.Clone does, would only make garbage.
func rebuildRequest(r *http.Request, hs [][2]string) (*http.Request, error) {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	r2.URL = &u
	r2.Trailer = r.Trailer.Clone()
	r2.Header = make(http.Header, len(hs))
	// One backing array holds every value; each name's slice has its own
	// capacity limit, so appending to one never overwrites the next.
	vals := make([]string, 0, len(hs))
	for _, h := range hs {
		switch h[0] {
		case ":path":
			if h[1] == r.RequestURI {
				continue // unchanged: keep r's parsed URL
			}
			u, err := url.ParseRequestURI(h[1])
			if err != nil {
				return nil, errors.New("host: plugin set an invalid :path " + strconv.Quote(h[1]))
			}
			r2.URL.Path, r2.URL.RawPath, r2.URL.RawQuery = u.Path, u.RawPath, u.RawQuery
			r2.RequestURI = h[1]
		case ":method":
			r2.Method = h[1]
		case ":authority":
			r2.Host = h[1]
		case ":scheme":
		default:
			k := canonicalName(h[0])
			if prev, ok := r2.Header[k]; ok {
				r2.Header[k] = append(prev, h[1])
				continue
			}
			vals = append(vals, h[1])
			r2.Header[k] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	return r2, nil
}

func connectionOf(r *http.Request) Connection {
	c := Connection{Protocol: r.Proto}
	c.Source, _ = netip.ParseAddrPort(r.RemoteAddr)
	switch a := r.Context().Value(http.LocalAddrContextKey).(type) {
	case *net.TCPAddr:
		// What parsing a.String() gives (an IPv4 address in its 4-byte
		// form), without making the string.
		ap := a.AddrPort()
		c.Destination = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case net.Addr:
		c.Destination, _ = netip.ParseAddrPort(a.String())
	}
	if r.TLS != nil {
		c.TLS, c.ServerName = true, r.TLS.ServerName
		c.TLSVersion = map[uint16]string{0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}[r.TLS.Version]
	}
	return c
}

// requestBody offers the request body to the plugin chunk by chunk as next
// reads it, then the trailers.
type requestBody struct {
	x       *exchange
	src     io.ReadCloser
	trailer http.Header // filled by net/http when src ends
	// trailerOut is what next sees as the request's trailers.
	trailerOut http.Header
	filter     bool
	buf        []byte
	out        []byte
	held       int
	err        error
	finished   bool
	// endStream: the plugin needs nothing after the request, so the
	// stream ends (and its VM is released) once the body has.
	endStream bool
}

func (b *requestBody) Read(p []byte) (int, error) {
	for len(b.out) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if b.buf == nil {
			b.buf = make([]byte, 32<<10)
		}
		n, err := b.src.Read(b.buf)
		eos := errors.Is(err, io.EOF)
		if err != nil && !eos {
			b.err = err
			b.end()
			return 0, err
		}
		if n == 0 && !eos {
			continue
		}
		b.step(b.buf[:n], eos)
		if eos && b.err == nil {
			b.err = io.EOF // after what step left in b.out
		}
		if b.err != nil {
			b.end()
		}
	}
	n := copy(p, b.out)
	b.out = b.out[n:]
	return n, nil
}

func (b *requestBody) step(chunk []byte, eos bool) {
	s := b.x.s
	// Trailers are known once the body has ended.
	trailers := eos && hasValues(b.trailer) && b.x.p.exports["proxy_on_request_trailers"]
	paused := false
	if !b.filter {
		b.out = append([]byte(nil), chunk...)
	} else {
		res, err := s.RequestBody(chunk, eos && !trailers)
		b.held += len(chunk)
		if b.stop(res, err) {
			return
		}
		paused = res.Paused
		switch {
		case paused && b.held > b.x.p.cfg.maxBody:
			b.x.mu.Lock()
			b.x.local = &LocalResponse{Status: http.StatusRequestEntityTooLarge, Body: []byte("payload too large")}
			b.x.mu.Unlock()
			b.err = errTooLarge
			return
		case paused && eos && !trailers:
			b.fail(errPaused)
			return
		case !paused:
			b.out, b.held = res.Body, 0
		}
	}
	if !trailers {
		return
	}
	res, err := s.RequestTrailers(headerPairs(b.trailer))
	if b.stop(res, err) {
		return
	}
	if res.Paused {
		b.fail(errPaused)
		return
	}
	b.out = append(b.out, res.Body...)
	if b.trailerOut == nil {
		return
	}
	for k := range b.trailerOut {
		delete(b.trailerOut, k)
	}
	for _, t := range res.Headers {
		b.trailerOut.Add(t[0], t[1])
	}
}

func hasValues(h http.Header) bool {
	for _, v := range h {
		if len(v) > 0 {
			return true
		}
	}
	return false
}

// stop records a local response, reset or failure and reports whether the
// body must end here.
func (b *requestBody) stop(res Result, err error) bool {
	switch {
	case err != nil:
		b.fail(err)
	case res.Local != nil:
		b.x.mu.Lock()
		b.x.local = res.Local
		b.x.mu.Unlock()
		b.err = errStopped
	case res.Reset:
		b.fail(errStopped)
	default:
		return false
	}
	return true
}

func (b *requestBody) fail(err error) {
	b.x.p.cfg.logger.Error("plugin failed on the request body", "err", err)
	b.x.mu.Lock()
	b.x.failed = true
	b.x.mu.Unlock()
	b.err = err
}

// end ends the stream when the plugin needs nothing after the request
// body: what it decided is already in b.out, b.err and b.x.
func (b *requestBody) end() {
	if b.endStream {
		b.x.p.end(b.x.s)
	}
}

func (b *requestBody) Close() error { return b.src.Close() }

// responseFilter passes the response of next through the plugin.
type responseFilter struct {
	x           *exchange
	w           http.ResponseWriter
	head        bool
	wroteHeader bool
	discard     bool // the response was replaced or aborted
	filterBody  bool
	held        int
}

func (f *responseFilter) Header() http.Header         { return f.w.Header() }
func (f *responseFilter) Unwrap() http.ResponseWriter { return f.w }

func (f *responseFilter) Flush() {
	if fl, ok := f.w.(http.Flusher); ok && f.wroteHeader && !f.discard && f.held == 0 {
		fl.Flush()
	}
}

// replace answers with the plugin's local response or a 500 instead of
// whatever next produces.
func (f *responseFilter) replace(local *LocalResponse) {
	f.wroteHeader, f.discard = true, true
	h := f.w.Header()
	for k := range h {
		delete(h, k)
	}
	if local != nil {
		writeLocal(f.w, local)
		return
	}
	http.Error(f.w, "internal error", http.StatusInternalServerError)
}

func (f *responseFilter) WriteHeader(code int) {
	if f.wroteHeader {
		return
	}
	if local, failed := f.x.takeOver(); local != nil || failed {
		f.replace(local)
		return
	}
	if !f.x.p.untilResponse {
		// Only the request body was filtered; the stream may be over.
		f.wroteHeader = true
		f.w.WriteHeader(code)
		return
	}
	s := f.x.s
	h := f.w.Header()
	pairs := append([][2]string{{":status", strconv.Itoa(code)}}, headerPairs(h)...)
	eos := f.head || code == http.StatusNoContent || code == http.StatusNotModified
	res, err := s.ResponseHeaders(pairs, eos)
	switch {
	case err != nil:
		f.x.p.cfg.logger.Error("plugin failed on the response headers", "err", err)
		f.replace(nil)
		return
	case res.Local != nil:
		f.replace(res.Local)
		return
	case res.Reset:
		panic(http.ErrAbortHandler)
	case res.Paused:
		f.x.p.cfg.logger.Error("plugin failed on the response headers", "err", errPaused)
		f.replace(nil)
		return
	}
	trailers := h.Values("Trailer")
	for k := range h {
		delete(h, k)
	}
	for _, p := range res.Headers {
		if p[0] == ":status" {
			if c, err := strconv.Atoi(p[1]); err == nil && c >= 100 && c <= 999 {
				code = c
			}
			continue
		}
		h.Add(p[0], p[1])
	}
	for _, t := range trailers {
		h.Add("Trailer", t)
	}
	f.filterBody = f.x.p.exports["proxy_on_response_body"]
	if f.filterBody {
		h.Del("Content-Length")
	}
	f.wroteHeader = true
	f.w.WriteHeader(code)
}

func (f *responseFilter) Write(b []byte) (int, error) {
	if !f.wroteHeader {
		f.WriteHeader(http.StatusOK)
	}
	if f.discard {
		return len(b), nil
	}
	if !f.filterBody {
		return f.w.Write(b)
	}
	if err := f.body(b, false); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (f *responseFilter) body(b []byte, eos bool) error {
	res, err := f.x.s.ResponseBody(b, eos)
	f.held += len(b)
	switch {
	case err != nil || res.Local != nil || res.Reset:
		// Headers are already out: like Envoy, all that is left is to reset.
		if err != nil {
			f.x.p.cfg.logger.Error("plugin failed on the response body", "err", err)
		}
		f.discard = true
		panic(http.ErrAbortHandler)
	case res.Paused:
		if f.held > f.x.p.cfg.maxBody || eos {
			f.x.p.cfg.logger.Error("plugin failed on the response body", "err", errTooLarge, "held", f.held, "end", eos)
			f.discard = true
			panic(http.ErrAbortHandler)
		}
		return nil
	}
	f.held = 0
	_, err = f.w.Write(res.Body)
	return err
}

// finish ends the response: headers if next wrote none, the end of the
// body, and the trailers.
func (f *responseFilter) finish() {
	if !f.wroteHeader {
		f.WriteHeader(http.StatusOK)
	}
	if f.discard {
		return
	}
	if f.filterBody {
		f.body(nil, true)
	}
	s := f.x.s
	if !f.x.p.exports["proxy_on_response_trailers"] {
		return
	}
	h := f.w.Header()
	var pairs [][2]string
	var keys []string
	for _, k := range sortedKeys(h) {
		name, isPrefixed := strings.CutPrefix(k, http.TrailerPrefix)
		if !isPrefixed && !declared(h, k) {
			continue
		}
		keys = append(keys, k)
		for _, val := range h[k] {
			pairs = append(pairs, [2]string{strings.ToLower(name), val})
		}
	}
	if len(pairs) == 0 {
		return
	}
	res, err := s.ResponseTrailers(pairs)
	if err != nil || res.Local != nil || res.Reset || res.Paused {
		panic(http.ErrAbortHandler)
	}
	for _, k := range keys {
		delete(h, k)
	}
	for _, t := range res.Headers {
		h.Add(http.TrailerPrefix+t[0], t[1])
	}
}

func declared(h http.Header, k string) bool {
	for _, v := range h.Values("Trailer") {
		for _, t := range strings.Split(v, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(t)) == k {
				return true
			}
		}
	}
	return false
}
