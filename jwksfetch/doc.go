// Package jwksfetch keeps the key sets of a tokengate plugin configuration
// fresh and hands the configuration, with keys filled in, to whatever
// delivers it to the plugin.
//
// The plugin never fetches anything on the request path: a key set reaches
// it as part of its configuration (providers.<name>.jwks). For every
// provider without an inline "jwks", jwksfetch resolves the key set URL (the
// provider's "jwks_uri", or OIDC discovery on its "issuer"), fetches the set
// over HTTPS, keeps only the public keys the plugin can use, and renders the
// configuration. Run keeps doing so, honouring Cache-Control and ETag within
// a refresh window, backing off on failure, keeping the last good set for up
// to max_stale and then withdrawing it (the plugin answers 503, never lets a
// token through), and publishing every change to its sinks. RequestRefresh
// lets the proxy ask for an early fetch when it sees an unknown kid, with a
// rate limit that a flood of forged kids cannot get around. A multi-tenant
// provider (an "issuer" template with "tenants") gets one key set per
// allowed tenant, each fetched and refreshed on its own and rendered into
// its "tenant_jwks" (tenant.go).
//
// One-shot rendering:
//
//	out, warnings, err := jwksfetch.Once(ctx, cfg)
//
// In a proxy:
//
//	f, err := jwksfetch.New(cfg, jwksfetch.WithSink(jwksfetch.SinkFunc(plugin.Configure)))
//	go f.Run(ctx)
//	// on a token whose kid the plugin does not know:
//	f.RequestRefresh("corp", kid)
package jwksfetch
