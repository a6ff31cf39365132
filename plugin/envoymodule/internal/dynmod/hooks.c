//go:build cgo && linux

// The event hooks Envoy 1.40 requires that tokengate does not need. They are
// written in C so that Envoy's calls to them do not enter the Go runtime:
// every call from an Envoy thread into Go costs a thread handover, and a GET
// request would otherwise pay it seven times instead of once.

#include "dynmod.h"

// A stream needs no state of its own: the decision is made in one hook. The
// stream's module pointer is its configuration's handle, so creating and
// destroying a stream allocates nothing. Envoy destroys a configuration only
// after its last stream.
uintptr_t envoy_dynamic_module_on_http_filter_new(uintptr_t config, uintptr_t filter) {
	(void)filter;
	return config;
}
void envoy_dynamic_module_on_http_filter_destroy(uintptr_t stream) { (void)stream; }
void envoy_dynamic_module_on_http_filter_stream_complete(uintptr_t f, uintptr_t s) { (void)f; (void)s; }
void envoy_dynamic_module_on_http_filter_per_route_config_destroy(uintptr_t config) { (void)config; }

// 0 is _Continue in every status enum: the body, trailers and response pass.
int envoy_dynamic_module_on_http_filter_request_body(uintptr_t f, uintptr_t s, bool end) { (void)f; (void)s; (void)end; return 0; }
int envoy_dynamic_module_on_http_filter_request_trailers(uintptr_t f, uintptr_t s) { (void)f; (void)s; return 0; }
int envoy_dynamic_module_on_http_filter_response_headers(uintptr_t f, uintptr_t s, bool end) { (void)f; (void)s; (void)end; return 0; }
int envoy_dynamic_module_on_http_filter_response_body(uintptr_t f, uintptr_t s, bool end) { (void)f; (void)s; (void)end; return 0; }
int envoy_dynamic_module_on_http_filter_response_trailers(uintptr_t f, uintptr_t s) { (void)f; (void)s; return 0; }

// The filter starts no timers, callouts or streams, so these are never
// called for it.
void envoy_dynamic_module_on_http_filter_scheduled(uintptr_t f, uintptr_t s, uint64_t id) { (void)f; (void)s; (void)id; }
void envoy_dynamic_module_on_http_filter_http_callout_done(uintptr_t f, uintptr_t s, uint64_t id, int result,
	tg_header* headers, size_t headers_size, tg_envoy_buffer* chunks, size_t chunks_size) {
	(void)f; (void)s; (void)id; (void)result; (void)headers; (void)headers_size; (void)chunks; (void)chunks_size;
}
void envoy_dynamic_module_on_http_filter_http_stream_headers(uintptr_t f, uintptr_t s, uint64_t id,
	tg_header* headers, size_t headers_size, bool end) {
	(void)f; (void)s; (void)id; (void)headers; (void)headers_size; (void)end;
}
void envoy_dynamic_module_on_http_filter_http_stream_data(uintptr_t f, uintptr_t s, uint64_t id,
	tg_envoy_buffer* chunks, size_t chunks_size, bool end) {
	(void)f; (void)s; (void)id; (void)chunks; (void)chunks_size; (void)end;
}
void envoy_dynamic_module_on_http_filter_http_stream_trailers(uintptr_t f, uintptr_t s, uint64_t id,
	tg_header* trailers, size_t trailers_size) {
	(void)f; (void)s; (void)id; (void)trailers; (void)trailers_size;
}
void envoy_dynamic_module_on_http_filter_http_stream_complete(uintptr_t f, uintptr_t s, uint64_t id) { (void)f; (void)s; (void)id; }
void envoy_dynamic_module_on_http_filter_http_stream_reset(uintptr_t f, uintptr_t s, uint64_t id, int reason) { (void)f; (void)s; (void)id; (void)reason; }
void envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(uintptr_t f, uintptr_t s) { (void)f; (void)s; }
void envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(uintptr_t f, uintptr_t s) { (void)f; (void)s; }
