package host

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/internal/abi"
)

// LocalResponse is a response the plugin sent instead of forwarding.
type LocalResponse struct {
	Status  int
	Details string
	Headers [][2]string
	Body    []byte
	// GRPCStatus is the gRPC status the plugin gave, or -1 for none.
	GRPCStatus int32
}

// Result is what a stream callback decided.
type Result struct {
	// Headers are the (possibly mutated) headers or trailers to pass on,
	// after a headers or trailers callback.
	Headers [][2]string
	// Body holds the bytes to pass on after a body callback: everything
	// buffered so far, as the plugin left it. It is nil while the plugin
	// keeps buffering (Paused). After a trailers callback it holds what
	// the plugin still had buffered, which goes on before the trailers.
	Body []byte
	// Local is set when the plugin answered the request itself; the stream
	// is over and later calls return the same response.
	Local *LocalResponse
	// Paused reports that the plugin stopped iteration and did not resume
	// it (for a body callback: asked for more of the body first).
	Paused bool
	// Reset reports that the plugin closed the stream (proxy_close_stream):
	// the exchange must be aborted.
	Reset bool
}

// Stream is one HTTP exchange bound to one VM until Close. Its methods
// follow Envoy's order: request headers, body, trailers, then response
// headers, body, trailers. They may be called from different goroutines,
// one at a time.
type Stream struct {
	mu       sync.Mutex
	p        *Plugin
	v        *vm
	ctx      context.Context
	id       uint32
	start    time.Time
	conn     Connection
	hdr      [4][][2]string // indexed by map type 0..3
	have     [4]bool
	reqBody  []byte
	respBody []byte
	props    map[string][]byte
	local    *LocalResponse
	logs     []string
	trap     error
	resumed  bool
	reset    bool
	closed   bool
}

// ErrTrapped is wrapped by errors from a stream whose VM trapped.
var ErrTrapped = errors.New("host: plugin trapped")

// ErrStreamClosed is returned by calls on a closed stream.
var ErrStreamClosed = errors.New("host: stream is closed")

// NewStream takes a VM from the pool (waiting while all are busy, until ctx
// ends) and creates the stream's context. ctx also bounds how long the
// stream waits for the plugin's callouts while paused.
func (p *Plugin) NewStream(ctx context.Context) (*Stream, error) {
	v, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	s := &Stream{p: p, v: v, ctx: ctx, id: v.newID(), start: p.cfg.clock()}
	v.stream = s
	if _, err := v.call(s.id, "proxy_on_context_create", uint64(s.id), uint64(v.rootID)); err != nil {
		s.closed = true
		p.release(v)
		return nil, fmt.Errorf("%w: %w", ErrTrapped, err)
	}
	return s, nil
}

// SetConnection records the downstream connection for the source.*,
// destination.*, connection.* and request.protocol properties.
func (s *Stream) SetConnection(c Connection) {
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
}

// Logs returns the lines the plugin logged during this stream.
func (s *Stream) Logs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logs...)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// invoke runs one stream callback and, if the plugin paused while it has
// callouts in flight, delivers their answers until it resumes, answers or
// has nothing left to wait for.
func (s *Stream) invoke(callback string, args ...uint64) (action uint32, called bool, err error) {
	if s.closed {
		return 0, false, ErrStreamClosed
	}
	if s.local != nil || s.reset || !s.v.has(callback) {
		return uint32(types.ActionContinue), false, nil
	}
	s.resumed = false
	r, err := s.v.call(s.id, callback, append([]uint64{uint64(s.id)}, args...)...)
	s.v.finishDone()
	if err != nil {
		return 0, true, fmt.Errorf("%w: %w", ErrTrapped, err)
	}
	if len(r) > 0 {
		action = uint32(r[0])
	}
	for action != uint32(types.ActionContinue) && !s.resumed && s.local == nil && !s.reset && s.v.hasOutstanding() {
		select {
		case <-s.v.wake:
		case <-s.ctx.Done():
			return action, true, fmt.Errorf("host: stream gave up waiting for the plugin's callouts: %w", s.ctx.Err())
		}
		s.v.drain()
		if s.trap != nil {
			return 0, true, fmt.Errorf("%w: %w", ErrTrapped, s.trap)
		}
	}
	if s.resumed {
		action = uint32(types.ActionContinue)
	}
	return action, true, nil
}

// headers runs a headers or trailers callback on h. The stream keeps h as
// its map from then on: callers outside the package pass a copy.
func (s *Stream) headers(t uint32, callback string, h [][2]string, eos bool, trailers bool) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{}, ErrStreamClosed
	}
	s.hdr[t] = lowerKeys(h)
	s.have[t] = true
	args := []uint64{uint64(len(h))}
	if !trailers {
		args = append(args, b2u(eos))
	}
	action, _, err := s.invoke(callback, args...)
	if err != nil {
		return Result{}, err
	}
	res := s.result(action, Result{Headers: s.hdr[t]})
	if trailers && !res.Paused && res.Local == nil && !res.Reset {
		// Trailers end the stream: a body the plugin kept buffered goes on
		// with them.
		buf := &s.reqBody
		if t == abi.MapHTTPResponseTrailers {
			buf = &s.respBody
		}
		res.Body, *buf = *buf, nil
	}
	return res, nil
}

func (s *Stream) result(action uint32, r Result) Result {
	switch {
	case s.local != nil:
		return Result{Local: s.local}
	case s.reset:
		return Result{Reset: true}
	case action != uint32(types.ActionContinue):
		r.Paused, r.Body = true, nil
	}
	return r
}

func (s *Stream) body(buf *[]byte, callback string, chunk []byte, eos bool) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{}, ErrStreamClosed
	}
	*buf = append(*buf, chunk...)
	action, _, err := s.invoke(callback, uint64(len(*buf)), b2u(eos))
	if err != nil {
		return Result{}, err
	}
	// Every non-zero body action (StopIterationAndBuffer, ...AndWatermark,
	// ...NoBuffer) keeps the data buffered here until the plugin continues.
	res := s.result(action, Result{Body: *buf})
	if !res.Paused && res.Local == nil && !res.Reset {
		*buf = nil
		if res.Body == nil {
			res.Body = []byte{}
		}
	}
	return res, nil
}

// RequestHeaders runs proxy_on_request_headers. Headers are stored with
// lower-case names; pseudo-headers (:method, :path, :authority, :scheme)
// belong in h.
func (s *Stream) RequestHeaders(h [][2]string, endOfStream bool) (Result, error) {
	return s.headers(abi.MapHTTPRequestHeaders, "proxy_on_request_headers", slices.Clone(h), endOfStream, false)
}

// RequestBody adds chunk to the buffered request body and runs
// proxy_on_request_body with the buffered size.
func (s *Stream) RequestBody(chunk []byte, endOfStream bool) (Result, error) {
	return s.body(&s.reqBody, "proxy_on_request_body", chunk, endOfStream)
}

// RequestTrailers runs proxy_on_request_trailers.
func (s *Stream) RequestTrailers(t [][2]string) (Result, error) {
	return s.headers(abi.MapHTTPRequestTrailers, "proxy_on_request_trailers", slices.Clone(t), true, true)
}

// ResponseHeaders runs proxy_on_response_headers; h should start with
// :status.
func (s *Stream) ResponseHeaders(h [][2]string, endOfStream bool) (Result, error) {
	return s.headers(abi.MapHTTPResponseHeaders, "proxy_on_response_headers", slices.Clone(h), endOfStream, false)
}

// ResponseBody adds chunk to the buffered response body and runs
// proxy_on_response_body.
func (s *Stream) ResponseBody(chunk []byte, endOfStream bool) (Result, error) {
	return s.body(&s.respBody, "proxy_on_response_body", chunk, endOfStream)
}

// ResponseTrailers runs proxy_on_response_trailers.
func (s *Stream) ResponseTrailers(t [][2]string) (Result, error) {
	return s.headers(abi.MapHTTPResponseTrailers, "proxy_on_response_trailers", slices.Clone(t), true, true)
}

// Close runs on_done, on_log and on_delete and returns the VM to the pool
// (or discards it if it trapped).
func (s *Stream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	for _, cb := range []string{"proxy_on_done", "proxy_on_log", "proxy_on_delete"} {
		if s.v.broken || s.v.closed {
			break
		}
		if _, e := s.v.call(s.id, cb, uint64(s.id)); e != nil {
			err = fmt.Errorf("%w: %w", ErrTrapped, e)
		}
	}
	s.p.release(s.v)
	return err
}
