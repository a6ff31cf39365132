// Package keybundle is the one definition of the signed key-set bundle that
// jwksfetch serves and the plugin polls: every fetched provider's key set,
// a version that only grows, the time it was issued, and an Ed25519
// signature over the exact payload bytes.
//
// Under Istio the plugin's configuration is static (a WasmPlugin's
// pluginConfig), so key sets travel on their own, from the jwksfetch
// service to every proxy, across the mesh's network. A network attacker
// there must not be able to forge a key set, roll a proxy back to an older
// one, or freeze it on the one it has. So a bundle is:
//
//	{"key_id":"<id of the signing key>","payload":"<base64url>","signature":"<base64url>"}
//
// where payload is the canonical JSON
//
//	{"version":V,"issued_at":S,"providers":{"<name>":{"issuer":"…","jwks":{"keys":[…]}},…}}
//
// and signature is Ed25519 over a fixed context string followed by the
// payload bytes as they were sent. The reader never re-serialises anything
// before verifying: it decodes the payload, checks the signature over those
// bytes against one of the pinned public keys, and only then parses them.
// A bundle is accepted when its version is newer than the one held (equal:
// nothing to do; older: a replay), and its issued_at is within max_stale of
// now and not in the future beyond MaxFutureSkew.
//
// The fetcher writes bundles (Sign), the plugin reads them (Verifier.Verify);
// both import this package, so the two sides cannot drift apart.
//
//	data, err := keybundle.Sign(keybundle.Bundle{Version: v, IssuedAt: now, Providers: sets}, priv)
//	v, err := keybundle.NewVerifier(time.Hour, pinned...)
//	b, err := v.Verify(data, held, now) // keybundle.Reason(err) names a refusal for metrics
//
// The package links into the Wasm module, so it uses no fmt, no reflection
// and no encoding/json: gjson and the project's strict JSON reader read it.
package keybundle
