// Package keyset reduces a fetched JWK Set to the public members the plugin
// needs before it is embedded in a configuration that many proxies read.
//
// A provider that mistakenly publishes private or symmetric key material must
// not have that material copied further: Public drops the private members
// (d, p, q, dp, dq, qi, oth) and symmetric keys (k) and reports each removal.
//
//	pub, warnings, err := keyset.Public(body, 100)
package keyset
