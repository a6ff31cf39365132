package abi

// The SDK's types package (github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types)
// is the one vocabulary for the enums it has: filter actions are
// types.Action (types.ActionContinue, types.ActionPause) and peers are
// types.PeerType. This file holds only what it lacks.

// Status is proxy_status_t, the result of every host function.
type Status = uint32

// Status values. 5, 9 and 11 are host-only (cpp-host WasmResult) and never
// expected by a v0.2.1 guest, but a host may still produce them.
const (
	StatusOK                   Status = 0
	StatusNotFound             Status = 1
	StatusBadArgument          Status = 2
	StatusSerializationFailure Status = 3
	StatusParseFailure         Status = 4
	StatusBadExpression        Status = 5
	StatusInvalidMemoryAccess  Status = 6
	StatusEmpty                Status = 7
	StatusCASMismatch          Status = 8
	StatusResultMismatch       Status = 9
	StatusInternalFailure      Status = 10
	StatusBrokenConnection     Status = 11
	StatusUnimplemented        Status = 12
)

// LogLevel is proxy_log_level_t.
type LogLevel = uint32

// Log levels.
const (
	LogTrace    LogLevel = 0
	LogDebug    LogLevel = 1
	LogInfo     LogLevel = 2
	LogWarn     LogLevel = 3
	LogError    LogLevel = 4
	LogCritical LogLevel = 5
)

// MapType is proxy_map_type_t. Hosts reject values above MapHTTPCallResponseTrailers.
type MapType = uint32

// Map types.
const (
	MapHTTPRequestHeaders       MapType = 0
	MapHTTPRequestTrailers      MapType = 1
	MapHTTPResponseHeaders      MapType = 2
	MapHTTPResponseTrailers     MapType = 3
	MapGRPCCallInitialMetadata  MapType = 4
	MapGRPCCallTrailingMetadata MapType = 5
	MapHTTPCallResponseHeaders  MapType = 6
	MapHTTPCallResponseTrailers MapType = 7
)

// BufferType is proxy_buffer_type_t.
type BufferType = uint32

// Buffer types.
const (
	BufferHTTPRequestBody          BufferType = 0
	BufferHTTPResponseBody         BufferType = 1
	BufferDownstreamData           BufferType = 2
	BufferUpstreamData             BufferType = 3
	BufferHTTPCallResponseBody     BufferType = 4
	BufferGRPCCallMessage          BufferType = 5
	BufferVMConfiguration          BufferType = 6
	BufferPluginConfiguration      BufferType = 7
	BufferForeignFunctionArguments BufferType = 8
)

// StreamType is proxy_stream_type_t.
type StreamType = uint32

// Stream types.
const (
	StreamHTTPRequest  StreamType = 0
	StreamHTTPResponse StreamType = 1
	StreamDownstream   StreamType = 2
	StreamUpstream     StreamType = 3
)

// MetricType is proxy_metric_type_t.
type MetricType = uint32

// Metric types.
const (
	MetricCounter   MetricType = 0
	MetricGauge     MetricType = 1
	MetricHistogram MetricType = 2
)

// GRPCStatusNone is passed to proxy_send_local_response when the response
// carries no gRPC status (cpp-sdk GrpcStatus::InvalidCode).
const GRPCStatusNone int32 = -1

// ABIVersionExport is the export that marks a module as ABI v0.2.1.
const ABIVersionExport = "proxy_abi_version_0_2_1"
