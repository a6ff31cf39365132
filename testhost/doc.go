// Package testhost runs the real tokengate plugin .wasm in unit tests, on the
// same host the reverse proxy uses, so tests see exactly what a proxy would.
//
//	th := testhost.New(t, `{"providers": ...}`, testhost.WithClock(fixed))
//	res := th.Do(t, testhost.Request{Method: "GET", Path: "/api", Headers: [][2]string{{"authorization", "Bearer ..."}}})
//	if res.Continued { ... res.Headers ... } else { ... res.Status, res.Body ... }
//
// The plugin is built once per test process; set TOKENGATE_WASM to use a
// prebuilt file instead.
package testhost
