//go:build wasip1

package proxywasm

import (
	"errors"
	"strconv"
	"unsafe"

	"github.com/tokengate/tokengate/internal/abi"
)

// What a paused request needs to be finished from an HTTP-call callback:
// the callback runs in the plugin (root) context, so it reads the call's
// answer there, then makes the paused stream's context the effective one
// and resumes the stream or answers it.

//go:wasmimport env proxy_set_effective_context
func hostSetEffectiveContext(contextID uint32) uint32

//go:wasmimport env proxy_continue_stream
func hostContinueStream(streamType uint32) uint32

// SetEffectiveContext makes the host calls that follow, until the callback
// returns, act on the stream contextID (its headers, its local response,
// resuming it). NotFound means the stream is gone.
func SetEffectiveContext(contextID uint32) error {
	return statusError(hostSetEffectiveContext(contextID))
}

// ResumeHTTPRequest lets the request of the effective stream, paused in its
// request-headers callback, go on upstream.
func ResumeHTTPRequest() error {
	return statusError(hostContinueStream(uint32(abi.StreamHTTPRequest)))
}

// GetHTTPCallResponseHeaders returns the headers of the HTTP-call answer
// being delivered (":status" included), as strings of their own. Call it
// only from an HTTPCallback.
func GetHTTPCallResponseHeaders() ([][2]string, error) {
	var p *byte
	var n uint32
	if err := statusError(hostGetHeaderMapPairs(uint32(abi.MapHTTPCallResponseHeaders), unsafe.Pointer(&p), &n)); err != nil {
		return nil, err
	}
	return abi.DecodePairs(view(p, n))
}

// GetHTTPCallResponseBody returns the body of the HTTP-call answer being
// delivered, of the size the callback was given. Like every buffer the host
// writes, it is valid only until the callback returns; clone what is kept.
func GetHTTPCallResponseBody(size int) ([]byte, error) {
	if size <= 0 {
		return nil, nil
	}
	var p *byte
	var n uint32
	if err := statusError(hostGetBufferBytes(uint32(abi.BufferHTTPCallResponseBody), 0, uint32(size), unsafe.Pointer(&p), &n)); err != nil {
		return nil, err
	}
	if int(n) != size {
		return nil, errors.New("proxywasm: the host gave " + strconv.Itoa(int(n)) + " bytes of a " + strconv.Itoa(size) + "-byte HTTP-call body")
	}
	return view(p, n), nil
}
