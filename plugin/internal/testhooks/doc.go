// Package testhooks lets a test build of the plugin be told by its
// configuration to fail on purpose, so that tests prove what the hosts (the
// Go host, Envoy) do when the plugin breaks. Only a module built with
// -tags tokengate_testhooks imports it (plugin/testhooks_on.go); the release
// module does not contain it, and refuses a configuration with test_hooks
// like any other unknown field.
//
// A test configuration wraps the real one:
//
//	{"test_hooks": {...}, "config": {...the plugin configuration...}}
//
// with these hooks:
//
//	"panic_on_configure": true    panic inside proxy_on_configure
//	"panic_on_request": "/path"   panic while handling a request for /path
//	"trap_on_request": "/path"    abort the Go runtime (an unrecoverable
//	                              fatal error, like running out of memory),
//	                              which traps the VM
//	"stats_path": "/path"         answer a request for /path with a log line
//	                              of the module's allocations
//	                              (runtime.MemStats.Mallocs) and host calls
//	                              so far, and let it through undecided, so a
//	                              test can hold the request path to none of
//	                              the first and few of the second
//
// In the plugin:
//
//	cfg, hooks := testhooks.Unwrap(cfg) // in OnPluginStart
//	hooks.OnRequest(headers)            // before the request is decided
package testhooks
