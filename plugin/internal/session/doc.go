// Package session holds what a browser carries between tokengate's sign-in
// steps: the encrypted cookies of a signed-in session and of a sign-in in
// progress, the PKCE verifier, and the checks on the address a sign-in
// returns to.
//
// Cookies are sealed with AES-256-GCM under keys from the configuration,
// each with a key id written in the clear in front of the ciphertext: the
// first key of a Codec seals, every key opens, so keys rotate by putting a
// new key first and dropping the old one once every cookie it sealed has
// expired. A sealed value binds its purpose ("session", "state"), the cookie
// name and the key id as additional authenticated data, and carries its own
// expiry inside the ciphertext, so a cookie cannot be moved to another
// purpose or name, nor kept past its time by the browser. A value too long
// for one cookie is split over several (Chunks, Read).
//
// The package is plain Go with no host calls and no fmt, encoding/json or
// reflection, like the gate that uses it inside the WebAssembly module.
// Randomness comes from SystemRandom unless a Codec is given another source
// (WithRandom): in the module that is WASI random_get, whose failure is an
// error here rather than the crash crypto/rand makes of it, so a sign-in
// fails closed with an answer instead of taking the VM down.
//
//	c, err := session.NewCodec("__Host-tokengate", []session.Key{{ID: "k2", Secret: k2}, {ID: "k1", Secret: k1}})
//	sealed, err := c.Seal("session", plaintext, expires)
//	for _, ck := range c.Chunks(sealed) { /* Set-Cookie: ck.Name=ck.Value */ }
//	sealed, present, err := c.Read(cookieHeaders)
//	plaintext, err := c.Open("session", sealed, now)
package session
