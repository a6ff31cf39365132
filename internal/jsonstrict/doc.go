// Package jsonstrict is the one strict reader of JSON text that crosses a
// trust boundary in tokengate: tokens' headers and claims, JWK Sets and the
// plugin configuration, on both sides (the plugin and jwksfetch).
//
// Check validates a document in one linear pass, without recursion: RFC 8259
// grammar, UTF-8 only, no unpaired surrogate escapes, at most MaxDepth levels
// of nesting, and no member name twice in any object at any depth (names are
// compared after unescaping, so "x" and "\u0078" are the same name).
//
// Why so strict: parsers disagree on exactly these inputs. gjson takes the
// first of two members with the same name, encoding/json the last, and
// decoders replace lone surrogates differently, so a document that is one
// thing to the plugin could be another to jwksfetch, to an identity provider's
// library or to a back-end reading a forwarded payload. Refusing them makes
// every reader see the same document. The depth limit keeps recursive readers
// (gjson's own validator, encoding/json) far from a Wasm engine's stack limit.
package jsonstrict
