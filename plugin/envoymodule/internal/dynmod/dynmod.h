// Declarations of the part of Envoy's dynamic-modules ABI (Envoy 1.40,
// ABI version v0.2.0) that tokengate uses, written from abi.h of that release.
// Declarations only: the file is included by a cgo file that exports hooks.
#ifndef TOKENGATE_DYNMOD_H
#define TOKENGATE_DYNMOD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// What the module gives Envoy: envoy_dynamic_module_type_module_buffer and
// _module_http_header. Pointers are declared as uintptr_t: Go passes
// addresses of memory that holds no Go pointers, and cgo's pointer check
// would only cost time.
typedef struct { uintptr_t ptr; size_t length; } tg_buffer;
typedef struct {
	uintptr_t key_ptr; size_t key_length;
	uintptr_t value_ptr; size_t value_length;
} tg_module_header;
// What Envoy gives the module: envoy_dynamic_module_type_envoy_buffer and
// _envoy_http_header.
typedef struct { const char* ptr; size_t length; } tg_envoy_buffer;
typedef struct {
	const char* key_ptr; size_t key_length;
	const char* value_ptr; size_t value_length;
} tg_header;

// Callbacks Envoy exports (abi.h of Envoy 1.40). Weak, so that a program
// that links this package without Envoy (a test binary) still links; inside
// Envoy the dynamic linker binds them to Envoy's definitions.
#define TG_CALLBACK __attribute__((weak))
// header_type 0 is envoy_dynamic_module_type_http_header_type_RequestHeader.
TG_CALLBACK size_t envoy_dynamic_module_callback_http_get_headers_size(uintptr_t filter, int header_type);
TG_CALLBACK bool envoy_dynamic_module_callback_http_get_headers(uintptr_t filter, int header_type, uintptr_t result);
// A null value.ptr removes the header.
TG_CALLBACK bool envoy_dynamic_module_callback_http_set_header(uintptr_t filter, int header_type, tg_buffer key, tg_buffer value);
TG_CALLBACK void envoy_dynamic_module_callback_http_send_response(uintptr_t filter, uint32_t status,
	uintptr_t headers, size_t headers_size, tg_buffer body, tg_buffer details);
TG_CALLBACK void envoy_dynamic_module_callback_http_clear_route_cache(uintptr_t filter);
TG_CALLBACK uint32_t envoy_dynamic_module_callback_http_filter_get_worker_index(uintptr_t filter);
TG_CALLBACK uint32_t envoy_dynamic_module_callback_get_concurrency(void);
TG_CALLBACK bool envoy_dynamic_module_callback_log_enabled(int level);
TG_CALLBACK void envoy_dynamic_module_callback_log(int level, tg_buffer message);

#endif
