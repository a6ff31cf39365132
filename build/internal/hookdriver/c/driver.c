// The hook driver: loads an Envoy dynamic module (a libtokengate.so), stands
// in for Envoy's callbacks with one fixed GET request, and calls the request
// headers hook from a thread of its own, as an Envoy worker would, either
// back to back or with a pause between calls.
//
//	driver LIBRARY CONFIG_FILE AUTHORIZATION_FILE CALLS GAP_MICROSECONDS
//
// It prints one line: calls, wall and in-hook nanoseconds per call, process
// CPU nanoseconds per call (every thread, the module's own included), and
// how many header changes, route cache clears and local responses the module
// asked for.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { const char* ptr; size_t length; } envoy_buffer;
typedef struct { uintptr_t ptr; size_t length; } module_buffer;
typedef struct { const char* key; size_t key_length; const char* value; size_t value_length; } header;

static header request[8];
static size_t request_size;
static long sets, clears, responses;

// Envoy's callbacks, as the module calls them (exported with -rdynamic).
size_t envoy_dynamic_module_callback_http_get_headers_size(uintptr_t f, int type) { (void)f; (void)type; return request_size; }
bool envoy_dynamic_module_callback_http_get_headers(uintptr_t f, int type, uintptr_t out) {
	(void)f; (void)type;
	memcpy((void*)out, request, sizeof(header) * request_size);
	return true;
}
bool envoy_dynamic_module_callback_http_set_header(uintptr_t f, int type, module_buffer k, module_buffer v) {
	(void)f; (void)type; (void)k; (void)v;
	sets++;
	return true;
}
void envoy_dynamic_module_callback_http_send_response(uintptr_t f, uint32_t status, uintptr_t h, size_t n, module_buffer b, module_buffer d) {
	(void)f; (void)status; (void)h; (void)n; (void)b; (void)d;
	responses++;
}
void envoy_dynamic_module_callback_http_clear_route_cache(uintptr_t f) { (void)f; clears++; }
uint32_t envoy_dynamic_module_callback_http_filter_get_worker_index(uintptr_t f) { (void)f; return 0; }
uint32_t envoy_dynamic_module_callback_get_concurrency(void) { return 1; }
bool envoy_dynamic_module_callback_log_enabled(int level) { (void)level; return false; }
void envoy_dynamic_module_callback_log(int level, module_buffer m) {
	(void)level;
	fprintf(stderr, "module log: %.*s\n", (int)m.length, (const char*)m.ptr);
}

static char* slurp(const char* path) {
	FILE* f = fopen(path, "rb");
	if (!f) { perror(path); exit(2); }
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char* b = malloc(n + 1);
	if (fread(b, 1, n, f) != (size_t)n) { perror(path); exit(2); }
	b[n] = 0;
	fclose(f);
	return b;
}

static double since(struct timespec a, struct timespec b) { return (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec); }

typedef int (*hook)(uintptr_t filter, uintptr_t stream, bool end);
static hook request_headers;
static uintptr_t config;
static long calls, gap_us;
static double wall_ns, hook_ns, cpu_ns;

static void* worker(void* arg) {
	(void)arg;
	struct timespec w0, w1, c0, c1, a, b;
	clock_gettime(CLOCK_MONOTONIC, &w0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	for (long i = 0; i < calls; i++) {
		if (gap_us > 0) {
			struct timespec pause = {gap_us / 1000000, (gap_us % 1000000) * 1000};
			nanosleep(&pause, 0);
		}
		clock_gettime(CLOCK_MONOTONIC, &a);
		request_headers(1, config, true);
		clock_gettime(CLOCK_MONOTONIC, &b);
		hook_ns += since(a, b);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &w1);
	wall_ns = since(w0, w1);
	cpu_ns = since(c0, c1);
	return 0;
}

int main(int argc, char** argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: driver LIBRARY CONFIG_FILE AUTHORIZATION_FILE CALLS GAP_MICROSECONDS\n");
		return 2;
	}
	void* lib = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
	if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 2; }
	char* cfg = slurp(argv[2]);
	char* auth = slurp(argv[3]);
	calls = atol(argv[4]);
	gap_us = atol(argv[5]);
	size_t n = strlen(auth);
	while (n > 0 && (auth[n - 1] == '\n' || auth[n - 1] == '\r')) auth[--n] = 0;
	header req[] = {
		{":authority", 10, "127.0.0.1:10000", 15}, {":path", 5, "/v1/score", 9}, {":method", 7, "GET", 3},
		{":scheme", 7, "http", 4}, {"user-agent", 10, "driver/1", 8}, {"authorization", 13, auth, n},
		{"x-forwarded-proto", 17, "http", 4}, {"x-request-id", 12, "8e1b3c1e-0b7a-4b9e-9a2e-4b1d2c3e4f5a", 36},
	};
	memcpy(request, req, sizeof(req));
	request_size = sizeof(req) / sizeof(req[0]);

	uintptr_t (*program_init)(void) = (uintptr_t(*)(void))dlsym(lib, "envoy_dynamic_module_on_program_init");
	uintptr_t (*config_new)(uintptr_t, envoy_buffer, envoy_buffer) =
		(uintptr_t(*)(uintptr_t, envoy_buffer, envoy_buffer))dlsym(lib, "envoy_dynamic_module_on_http_filter_config_new");
	request_headers = (hook)dlsym(lib, "envoy_dynamic_module_on_http_filter_request_headers");
	if (!program_init || !config_new || !request_headers) { fprintf(stderr, "not an Envoy dynamic module\n"); return 2; }
	if (!program_init()) { fprintf(stderr, "the module refused to initialise\n"); return 2; }
	config = config_new(0, (envoy_buffer){"tokengate", 9}, (envoy_buffer){cfg, strlen(cfg)});
	if (!config) { fprintf(stderr, "the module refused the configuration\n"); return 2; }

	pthread_t t; // not a thread the module's runtime created, as Envoy's workers are not
	pthread_create(&t, 0, worker, 0);
	pthread_join(t, 0);
	printf("calls %ld wall_ns %.0f hook_ns %.0f cpu_ns %.0f sets %ld clears %ld responses %ld\n",
		calls, wall_ns / calls, hook_ns / calls, cpu_ns / calls, sets, clears, responses);
	return 0;
}
