// The native floor module: the event hooks Envoy 1.40's dynamic-modules ABI
// (v0.2.0) requires, and, per request, the callbacks tokengate's native
// module makes for an accepted request whose token is cached (the worker
// index, the request headers, removing authorization, setting x-user,
// clearing the route cache). No Go, no decision: every request passes.
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct { const char* ptr; size_t length; } envoy_buffer;
typedef struct { const char* ptr; size_t length; } module_buffer;
typedef struct { const char* key; size_t key_length; const char* value; size_t value_length; } header;

extern size_t envoy_dynamic_module_callback_http_get_headers_size(uintptr_t filter, int header_type);
extern bool envoy_dynamic_module_callback_http_get_headers(uintptr_t filter, int header_type, uintptr_t result);
extern bool envoy_dynamic_module_callback_http_set_header(uintptr_t filter, int header_type, module_buffer key, module_buffer value);
extern void envoy_dynamic_module_callback_http_clear_route_cache(uintptr_t filter);
extern uint32_t envoy_dynamic_module_callback_http_filter_get_worker_index(uintptr_t filter);

static const char abi_version[] = "v0.2.0";

uintptr_t envoy_dynamic_module_on_program_init(void) { return (uintptr_t)abi_version; }
uintptr_t envoy_dynamic_module_on_http_filter_config_new(uintptr_t p, envoy_buffer name, envoy_buffer config) {
	(void)p; (void)name; (void)config;
	return 1;
}
void envoy_dynamic_module_on_http_filter_config_destroy(uintptr_t c) { (void)c; }
uintptr_t envoy_dynamic_module_on_http_filter_per_route_config_new(envoy_buffer name, envoy_buffer config) {
	(void)name; (void)config;
	return 0;
}
void envoy_dynamic_module_on_http_filter_per_route_config_destroy(uintptr_t c) { (void)c; }
uintptr_t envoy_dynamic_module_on_http_filter_new(uintptr_t config, uintptr_t filter) { (void)filter; return config; }
void envoy_dynamic_module_on_http_filter_destroy(uintptr_t s) { (void)s; }
void envoy_dynamic_module_on_http_filter_stream_complete(uintptr_t f, uintptr_t s) { (void)f; (void)s; }

int envoy_dynamic_module_on_http_filter_request_headers(uintptr_t f, uintptr_t s, bool end) {
	(void)s; (void)end;
	header headers[64];
	(void)envoy_dynamic_module_callback_http_filter_get_worker_index(f);
	size_t n = envoy_dynamic_module_callback_http_get_headers_size(f, 0);
	if (n <= 64) {
		envoy_dynamic_module_callback_http_get_headers(f, 0, (uintptr_t)headers);
	}
	envoy_dynamic_module_callback_http_set_header(f, 0, (module_buffer){"authorization", 13}, (module_buffer){0, 0});
	envoy_dynamic_module_callback_http_set_header(f, 0, (module_buffer){"x-user", 6}, (module_buffer){"user-1", 6});
	envoy_dynamic_module_callback_http_clear_route_cache(f);
	return 0;
}

int envoy_dynamic_module_on_http_filter_request_body(uintptr_t f, uintptr_t s, bool end) { (void)f; (void)s; (void)end; return 0; }
int envoy_dynamic_module_on_http_filter_request_trailers(uintptr_t f, uintptr_t s) { (void)f; (void)s; return 0; }
int envoy_dynamic_module_on_http_filter_response_headers(uintptr_t f, uintptr_t s, bool end) { (void)f; (void)s; (void)end; return 0; }
int envoy_dynamic_module_on_http_filter_response_body(uintptr_t f, uintptr_t s, bool end) { (void)f; (void)s; (void)end; return 0; }
int envoy_dynamic_module_on_http_filter_response_trailers(uintptr_t f, uintptr_t s) { (void)f; (void)s; return 0; }
void envoy_dynamic_module_on_http_filter_scheduled(uintptr_t f, uintptr_t s, uint64_t id) { (void)f; (void)s; (void)id; }
void envoy_dynamic_module_on_http_filter_http_callout_done(uintptr_t f, uintptr_t s, uint64_t id, int result,
	void* headers, size_t headers_size, void* chunks, size_t chunks_size) {
	(void)f; (void)s; (void)id; (void)result; (void)headers; (void)headers_size; (void)chunks; (void)chunks_size;
}
void envoy_dynamic_module_on_http_filter_http_stream_headers(uintptr_t f, uintptr_t s, uint64_t id,
	void* headers, size_t headers_size, bool end) {
	(void)f; (void)s; (void)id; (void)headers; (void)headers_size; (void)end;
}
void envoy_dynamic_module_on_http_filter_http_stream_data(uintptr_t f, uintptr_t s, uint64_t id,
	void* chunks, size_t chunks_size, bool end) {
	(void)f; (void)s; (void)id; (void)chunks; (void)chunks_size; (void)end;
}
void envoy_dynamic_module_on_http_filter_http_stream_trailers(uintptr_t f, uintptr_t s, uint64_t id,
	void* trailers, size_t trailers_size) {
	(void)f; (void)s; (void)id; (void)trailers; (void)trailers_size;
}
void envoy_dynamic_module_on_http_filter_http_stream_complete(uintptr_t f, uintptr_t s, uint64_t id) { (void)f; (void)s; (void)id; }
void envoy_dynamic_module_on_http_filter_http_stream_reset(uintptr_t f, uintptr_t s, uint64_t id, int reason) {
	(void)f; (void)s; (void)id; (void)reason;
}
void envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(uintptr_t f, uintptr_t s) { (void)f; (void)s; }
void envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(uintptr_t f, uintptr_t s) { (void)f; (void)s; }
