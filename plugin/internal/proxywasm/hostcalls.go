//go:build wasip1

package proxywasm

import (
	"bytes"
	"time"
	"unsafe"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/internal/abi"
)

// statusError maps a host status to the SDK's error values (nil for OK).
func statusError(s uint32) error {
	switch s {
	case abi.StatusOK:
		return nil
	case abi.StatusNotFound:
		return types.ErrorStatusNotFound
	case abi.StatusBadArgument:
		return types.ErrorStatusBadArgument
	case abi.StatusEmpty:
		return types.ErrorStatusEmpty
	case abi.StatusCASMismatch:
		return types.ErrorStatusCasMismatch
	case abi.StatusInternalFailure:
		return types.ErrorInternalFailure
	case abi.StatusUnimplemented:
		return types.ErrorUnimplemented
	default:
		return types.ErrorStatusBadArgument
	}
}

func strPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// view returns the host-written region as a slice without copying. The
// region was allocated by proxy_on_memory_allocate, in the callback's arena
// (memory.go): it is valid until the callback returns.
func view(p *byte, size uint32) []byte {
	if p == nil || size == 0 {
		return nil
	}
	return unsafe.Slice(p, size)
}

// Log writes msg to the host log at level.
func Log(level uint32, msg string) {
	counted()
	hostLog(level, strPtr(msg), uint32(len(msg)))
}

// LogDebug, LogInfo, LogWarn and LogError log at their level.
func LogDebug(msg string) { Log(abi.LogDebug, msg) }

// LogInfo logs at info level.
func LogInfo(msg string) { Log(abi.LogInfo, msg) }

// LogWarn logs at warn level.
func LogWarn(msg string) { Log(abi.LogWarn, msg) }

// LogError logs at error level.
func LogError(msg string) { Log(abi.LogError, msg) }

// The out-parameters of host calls. A pointer passed to an imported function
// escapes, so a local would be allocated on every call; a VM runs one
// callback at a time, and each is read right after the call that wrote it.
var (
	outPtr   *byte
	outSize  uint32
	outU32   uint32
	outNanos uint64
)

func getBuffer(buffer uint32, size int) ([]byte, error) {
	if size <= 0 {
		return nil, nil
	}
	counted()
	if err := statusError(hostGetBufferBytes(buffer, 0, uint32(size), unsafe.Pointer(&outPtr), &outSize)); err != nil {
		return nil, err
	}
	return view(outPtr, outSize), nil
}

// GetPluginConfiguration returns the plugin configuration (buffer type 7).
// Call it from OnPluginStart with the size the host passed. The bytes are the
// caller's to keep (a copy of what the host wrote to the callback's arena).
func GetPluginConfiguration(size int) ([]byte, error) {
	b, err := getBuffer(abi.BufferPluginConfiguration, size)
	return bytes.Clone(b), err
}

// requestHeaders is reused by every GetHTTPRequestHeaders.
var requestHeaders [][2]string

// GetHTTPRequestHeaders returns every request header in order, pseudo-headers
// (":path", ":method", ...) included. One host call, whatever the count.
//
// It allocates nothing once its slice has grown to the largest request seen:
// the slice is reused by the next call, and every name and value aliases the
// memory the host wrote them to, which is reused after the callback returns.
// Both are valid only until the current callback returns; clone what is kept
// longer (strings.Clone).
func GetHTTPRequestHeaders() ([][2]string, error) {
	counted()
	if err := statusError(hostGetHeaderMapPairs(abi.MapHTTPRequestHeaders, unsafe.Pointer(&outPtr), &outSize)); err != nil {
		return nil, err
	}
	clear(requestHeaders) // drop the previous request's strings
	h, err := abi.AppendPairsView(requestHeaders[:0], view(outPtr, outSize))
	requestHeaders = h
	return h, err
}

// ReplaceHTTPRequestHeader sets a request header, replacing any values.
func ReplaceHTTPRequestHeader(name, value string) error {
	counted()
	return statusError(hostReplaceHeaderMapValue(abi.MapHTTPRequestHeaders, strPtr(name), uint32(len(name)), strPtr(value), uint32(len(value))))
}

// RemoveHTTPRequestHeader removes every value of a request header.
func RemoveHTTPRequestHeader(name string) error {
	counted()
	return statusError(hostRemoveHeaderMapValue(abi.MapHTTPRequestHeaders, strPtr(name), uint32(len(name))))
}

// SendHTTPResponse answers the stream locally; the request does not go
// upstream. The callback that calls it should return types.ActionPause.
func SendHTTPResponse(status uint32, headers [][2]string, body []byte) error {
	hs := abi.EncodePairs(headers)
	counted()
	return statusError(hostSendLocalResponse(status, nil, 0, bytesPtr(body), uint32(len(body)), bytesPtr(hs), uint32(len(hs)), abi.GRPCStatusNone))
}

// CallForeignFunction calls a function the host registered by name, such as
// Envoy's "verify_signature". A missing function gives ErrorStatusNotFound.
// The result is valid until the current callback returns.
func CallForeignFunction(name string, args []byte) ([]byte, error) {
	counted()
	if err := statusError(hostCallForeignFunction(strPtr(name), uint32(len(name)), bytesPtr(args), uint32(len(args)), unsafe.Pointer(&outPtr), &outSize)); err != nil {
		return nil, err
	}
	return view(outPtr, outSize), nil
}

// DispatchHTTPCall sends an HTTP request to a named upstream (an Envoy
// cluster) without blocking; cb runs in a later callback of the plugin
// context that is active now.
func DispatchHTTPCall(upstream string, headers [][2]string, body []byte, timeoutMillis uint32, cb HTTPCallback) (uint32, error) {
	hs := abi.EncodePairs(headers)
	counted()
	err := statusError(hostHTTPCall(strPtr(upstream), uint32(len(upstream)), bytesPtr(hs), uint32(len(hs)), bytesPtr(body), uint32(len(body)), nil, 0, timeoutMillis, &outU32))
	if err != nil {
		return 0, err
	}
	id := outU32
	vmState.calls[id] = cb
	return id, nil
}

// GetCurrentTime returns the proxy's wall clock with one host call (Go's
// time.Now costs two WASI calls, the wall and the monotonic clock). It falls
// back to time.Now if the host does not answer.
func GetCurrentTime() time.Time {
	counted()
	if hostGetCurrentTimeNanoseconds(&outNanos) != uint32(abi.StatusOK) {
		return time.Now()
	}
	return time.Unix(0, int64(outNanos))
}

// SetTickPeriod asks the host to call the current plugin context's OnTick
// every millis milliseconds (0 stops the ticks). Call it from OnPluginStart.
func SetTickPeriod(millis uint32) error {
	counted()
	return statusError(hostSetTickPeriodMilliseconds(millis))
}
