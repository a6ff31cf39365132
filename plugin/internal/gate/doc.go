// Package gate decides, for one HTTP request, whether it may go upstream.
//
// A Gate is compiled once from the plugin configuration (Compile) and then
// answers requests (Decide) without further parsing of the configuration or
// the key sets. It is plain Go with no host calls, so the same code is tested
// natively and runs inside the WebAssembly module; it avoids fmt,
// encoding/json and reflection so that the module stays small and a request
// costs little more than its signature check.
//
// The verifier parses compact JWS itself (strict base64url, gjson for the
// JOSE header and the claims) so that every rule of RFC 7515/7519/8725 that
// the project promises is enforced here, in one place, and uses
// golang-jwt/jwt/v5 signing methods only for the signature arithmetic.
//
// Rules may match path templates, hosts and RE2 regexes and require scopes,
// roles and claims (requires.go); templates and regexes are compiled with the
// configuration, and a verified token's claims at the paths requirements read
// are looked up once and cached with it, so a cached request evaluates its
// requirements without allocating. Go's regexp is the one sizeable import
// this adds to the module; Explain runs the same code path as Decide and
// records each check, for the tokengate explain command.
//
// Every denial is one of the sentinel errors in errors.go, and one table there
// maps each to its HTTP status, RFC 6750 error code and description.
package gate
