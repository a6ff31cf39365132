// Package discovery reads an OpenID Provider's configuration document and
// returns its jwks_uri, checking that the document speaks for the configured
// issuer (OpenID Connect Discovery 1.0 §4.3) so a misrouted or spoofed
// document cannot substitute another provider's keys.
//
//	uri, err := discovery.JWKSURI(ctx, client, "https://idp.example.com", opts)
package discovery
