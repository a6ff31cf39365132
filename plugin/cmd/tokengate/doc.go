// Command tokengate checks a plugin configuration the way the plugin will
// apply it, natively, without a proxy.
//
//	tokengate explain --config C.json --token-file T --request "POST /v2/models/iris/infer" [--header k:v]...
//	tokengate lint --config C.json
//
// explain runs the gate's own decision on one request (the same code the
// .wasm module runs) and prints the rule that matched, every check with its
// outcome and the decision; it never prints the token. lint reports what a
// configuration accepts but should not be relied on: providers without
// audiences, ID tokens accepted, no lifetime limit, rules shadowed by earlier
// ones or unreachable after a catch-all; and refusals, such as a capture used
// but not defined, with the field that is wrong.
//
// Exit status: 0 when the request is allowed or lint finds nothing, 1 when
// the request is refused, lint has findings or the configuration is refused,
// 2 for a usage error.
//
// It is built natively (go run ./plugin/cmd/tokengate), never for wasip1: it
// is its own main package beside the plugin's.
package main
