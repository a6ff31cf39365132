//go:build wasip1

package proxywasm

import (
	"runtime/debug"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"
)

// The callbacks this module exports. Envoy skips a callback a module does not
// export, so the body, trailer, TCP and gRPC callbacks, which an
// authentication filter has no use for, are left out: exporting them would
// cost a guest call per body chunk for nothing. So is proxy_on_queue_ready:
// the plugin registers no queue. proxy_on_tick is exported for the one use
// the plugin has for it, flushing the counters it batches (SetTickPeriod).

//go:wasmexport proxy_abi_version_0_2_1
func proxyABIVersion() {}

//go:wasmexport proxy_on_context_create
func proxyOnContextCreate(contextID, parentID uint32) {
	enter()
	defer recoverRoot("proxy_on_context_create")
	vmState.createContext(contextID, parentID)
}

//go:wasmexport proxy_on_vm_start
func proxyOnVMStart(rootID, size uint32) (ok bool) {
	enter()
	defer recoverBool("proxy_on_vm_start", &ok)
	// Envoy calls this once per plugin (root) context, not once per VM.
	return vmState.vm.OnVMStart(int(size)) == types.OnVMStartStatusOK
}

//go:wasmexport proxy_on_configure
func proxyOnConfigure(rootID, size uint32) (ok bool) {
	enter()
	defer recoverBool("proxy_on_configure", &ok)
	p, found := vmState.plugins[rootID]
	if !found {
		LogError("proxy_on_configure: unknown plugin context")
		return false
	}
	return p.OnPluginStart(int(size)) == types.OnPluginStartStatusOK
}

//go:wasmexport proxy_on_tick
func proxyOnTick(rootID uint32) {
	enter()
	defer recoverRoot("proxy_on_tick")
	if p, ok := vmState.plugins[rootID]; ok {
		p.OnTick()
	}
}

//go:wasmexport proxy_on_http_call_response
func proxyOnHTTPCallResponse(rootID, callID, numHeaders, bodySize, numTrailers uint32) {
	enter()
	defer recoverRoot("proxy_on_http_call_response")
	cb, ok := vmState.calls[callID]
	if !ok {
		return
	}
	delete(vmState.calls, callID)
	cb(int(numHeaders), int(bodySize), int(numTrailers))
}

//go:wasmexport proxy_on_request_headers
func proxyOnRequestHeaders(contextID, numHeaders uint32, endOfStream bool) (action uint32) {
	enter()
	defer recoverStream("proxy_on_request_headers", &action)
	hc, ok := vmState.streams[contextID]
	if !ok {
		return uint32(types.ActionContinue)
	}
	return uint32(hc.OnHttpRequestHeaders(int(numHeaders), endOfStream))
}

// proxy_on_response_headers, proxy_on_log and proxy_on_done are deliberately
// not exported: the host skips callbacks a module does not export, and every
// call into a stock-Go module costs microseconds of runtime entry. A stream's
// OnHttpStreamDone runs from proxy_on_delete instead, and without
// proxy_on_done a root context is done at once; a plugin's OnPluginDone runs
// from proxy_on_delete too (its answer is ignored: it cannot delay the
// deletion), so that it can hand over what it still holds.

//go:wasmexport proxy_on_delete
func proxyOnDelete(contextID uint32) {
	enter()
	defer recoverRoot("proxy_on_delete")
	if hc, ok := vmState.streams[contextID]; ok {
		hc.OnHttpStreamDone()
	} else if p, ok := vmState.plugins[contextID]; ok {
		p.OnPluginDone()
	}
	vmState.deleteContext(contextID)
}

// The recover functions below are deferred by every callback: each also
// ends the callback for the memory arena (leave).

// recoverRoot turns a panic in a non-stream callback into an error log line.
func recoverRoot(where string) {
	leave()
	if r := recover(); r != nil {
		logPanic(where, r)
	}
}

// recoverBool turns a panic into an error log line and a false result, which
// makes the host refuse the configuration instead of trapping.
func recoverBool(where string, ok *bool) {
	leave()
	if r := recover(); r != nil {
		logPanic(where, r)
		*ok = false
	}
}

// recoverStream fails the stream closed: the client gets a 500, the request
// never reaches the upstream, and the VM stays usable.
func recoverStream(where string, action *uint32) {
	leave()
	r := recover()
	if r == nil {
		return
	}
	*action = uint32(types.ActionPause)
	FailStream(where, r)
}

// FailStream answers the current stream 500 after the panic r in where, so
// that the request never reaches the upstream and the VM stays usable. The
// stream callbacks recover through it, and so does work on a paused stream
// done in another callback (an HTTP call's).
func FailStream(where string, r any) {
	logPanic(where, r)
	defer func() { _ = recover() }() // the response may already have been sent
	_ = SendHTTPResponse(500, [][2]string{{"content-type", "application/json"}},
		[]byte(`{"error":"internal_error","error_description":"the authentication filter failed; the request was refused"}`))
}

func logPanic(where string, r any) {
	msg := "panic in " + where + ": "
	switch v := r.(type) {
	case error:
		msg += v.Error()
	case string:
		msg += v
	default:
		msg += "(non-error value)"
	}
	LogError(msg + "\n" + string(debug.Stack()))
}
