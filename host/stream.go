package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/tokengate/tokengate/internal/abi"
)

// LocalResponse is a response the plugin sent instead of forwarding.
type LocalResponse struct {
	Status  int
	Details string
	Headers [][2]string
	Body    []byte
}

// Result is what a stream callback decided.
type Result struct {
	// Headers are the (possibly mutated) headers to forward when Local is nil.
	Headers [][2]string
	// Local is set when the plugin answered the request itself.
	Local *LocalResponse
	// Paused reports that the plugin returned Pause without a local response.
	Paused bool
}

// Stream is one HTTP exchange bound to one VM until Close.
type Stream struct {
	p                                                  *Plugin
	v                                                  *vm
	id                                                 uint32
	reqHeaders, reqTrailers, respHeaders, respTrailers [][2]string
	reqBody, respBody                                  []byte
	local                                              *LocalResponse
	logs                                               []string
	closed                                             bool
}

// ErrTrapped is wrapped by errors from a stream whose VM trapped.
var ErrTrapped = errors.New("host: plugin trapped")

// NewStream takes a VM from the pool and creates the stream's context.
func (p *Plugin) NewStream(ctx context.Context) (*Stream, error) {
	v, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	s := &Stream{p: p, v: v, id: v.newID()}
	v.stream = s
	if _, err := v.call("proxy_on_context_create", uint64(s.id), uint64(v.rootID)); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w: %v", ErrTrapped, err)
	}
	return s, nil
}

// Logs returns the lines the plugin logged during this stream.
func (s *Stream) Logs() []string { return s.logs }

func (s *Stream) run(callback string, hm *[][2]string, in [][2]string, eos bool) (Result, error) {
	if s.closed {
		return Result{}, errors.New("host: stream is closed")
	}
	*hm = append([][2]string(nil), in...)
	eosArg := uint64(0)
	if eos {
		eosArg = 1
	}
	r, err := s.v.call(callback, uint64(s.id), uint64(len(in)), eosArg)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrTrapped, err)
	}
	if s.local != nil {
		return Result{Local: s.local}, nil
	}
	res := Result{Headers: *hm}
	if r != nil && uint32(r[0]) != abi.ActionContinue {
		res.Paused = true
	}
	return res, nil
}

// RequestHeaders runs proxy_on_request_headers.
func (s *Stream) RequestHeaders(h [][2]string, endOfStream bool) (Result, error) {
	return s.run("proxy_on_request_headers", &s.reqHeaders, h, endOfStream)
}

// ResponseHeaders runs proxy_on_response_headers.
func (s *Stream) ResponseHeaders(h [][2]string, endOfStream bool) (Result, error) {
	return s.run("proxy_on_response_headers", &s.respHeaders, h, endOfStream)
}

// Close runs on_done, on_log and on_delete and returns the VM to the pool.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if !s.v.broken {
		for _, cb := range []string{"proxy_on_done", "proxy_on_log", "proxy_on_delete"} {
			if _, e := s.v.call(cb, uint64(s.id)); e != nil {
				err = fmt.Errorf("%w: %v", ErrTrapped, e)
				break
			}
		}
	}
	s.v.stream = nil
	s.p.release(context.Background(), s.v)
	return err
}
