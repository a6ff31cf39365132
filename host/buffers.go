package host

import (
	"github.com/tokengate/tokengate/internal/abi"
)

// buffer returns the bytes of buffer type t as the current context sees
// them. found is false when that buffer does not exist right now (Envoy's
// getBuffer returning null), which the guest sees as NOT_FOUND.
func (v *vm) buffer(t uint32) (b []byte, found bool) {
	switch t {
	case abi.BufferHTTPRequestBody:
		if s := v.streamInScope(); s != nil {
			return s.reqBody, true
		}
	case abi.BufferHTTPResponseBody:
		if s := v.streamInScope(); s != nil {
			return s.respBody, true
		}
	case abi.BufferHTTPCallResponseBody:
		if v.callResp != nil {
			return v.callResp.body, true
		}
	case abi.BufferVMConfiguration:
		return v.p.cfg.vmConfig, true
	case abi.BufferPluginConfiguration:
		// Envoy offers the plugin configuration only while the root context
		// starts and configures.
		if v.configuring {
			return v.config, true
		}
	case abi.BufferForeignFunctionArguments:
		if v.hasCallBuf {
			return v.callData, true
		}
	}
	// Downstream/upstream data (TCP filters) and gRPC messages never exist
	// for an HTTP filter on this host.
	return nil, false
}

// setBuffer applies proxy_set_buffer_bytes with Envoy's semantics: start 0
// drops the first size bytes and prepends data (so start 0, size len(body)
// replaces the body); start at or past the end appends; anything in between
// is BAD_ARGUMENT. Configuration, call-response and call-data buffers are
// read-only (BAD_ARGUMENT); buffers that do not exist are NOT_FOUND.
func (v *vm) setBuffer(t uint32, start, size uint32, data []byte) abi.Status {
	var b *[]byte
	switch t {
	case abi.BufferHTTPRequestBody:
		if s := v.streamInScope(); s != nil {
			b = &s.reqBody
		}
	case abi.BufferHTTPResponseBody:
		if s := v.streamInScope(); s != nil {
			b = &s.respBody
		}
	}
	if b == nil {
		if _, found := v.buffer(t); found {
			return abi.StatusBadArgument
		}
		return abi.StatusNotFound
	}
	switch {
	case start == 0:
		rest := *b
		if int(size) >= len(rest) {
			rest = nil
		} else {
			rest = rest[size:]
		}
		*b = append(append([]byte(nil), data...), rest...)
	case int(start) >= len(*b):
		*b = append(append([]byte(nil), *b...), data...)
	default:
		return abi.StatusBadArgument
	}
	return abi.StatusOK
}
