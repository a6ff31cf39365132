// Package testhost runs the real tokengate plugin .wasm in unit tests, on the
// same host the reverse proxy uses, so tests see exactly what a proxy would
// (including Envoy's verify_signature foreign function).
//
//	th := testhost.New(t, `{"providers": ...}`, testhost.WithClock(fixed))
//	res := th.Do(t, testhost.Request{Method: "GET", Path: "/api", Headers: [][2]string{{"authorization", "Bearer ..."}}})
//	if res.Continued { ... res.Headers ... } else { ... res.Status, res.Body ... }
//	logs := testhost.Refused(t, `{"providers": 1}`) // a configuration the plugin must refuse
//	n, logs := th.Tick(t)                          // ticks never happen by themselves
//
// The plugin comes from internal/wasmbuild: the file TOKENGATE_WASM names,
// or else a build from this source tree, once per test process. A build
// failure fails the test. Build compiles other guest packages (such as the
// host's test guests) the same way.
package testhost
