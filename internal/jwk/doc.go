// Package jwk parses RFC 7517 JSON Web Key Sets into public keys that a JWS
// verifier can use.
//
// It is shared by the plugin (which compiles inline key sets once per
// configuration) and by the host-side fetcher (which checks a downloaded set
// before pushing it). Parsing is strict about every member it reads and
// tolerant about the set: a key that cannot be used for signature
// verification is skipped with a warning that names it, as RFC 7517 §5 asks,
// and the rest of the set stays in force. Only a document that is not a JWK
// Set at all is an error.
//
// The package uses gjson rather than encoding/json so that it stays small and
// cheap inside the WebAssembly plugin; the key of an "x5c" certificate is
// read with internal/der, the project's one DER reader and writer.
package jwk
