// Package jwksfetch fills in the key sets of a tokengate plugin
// configuration. For every provider without an inline "jwks" it resolves the
// key set URL (the provider's "jwks_uri", or OIDC discovery on its "issuer"),
// fetches the set over HTTPS, keeps only public members, and renders the
// configuration with "jwks" filled in, ready to hand to the plugin.
//
//	cfg, _ := os.ReadFile("cfg.json")
//	out, warnings, err := jwksfetch.Once(ctx, cfg, jwksfetch.WithHTTPClient(client))
package jwksfetch
