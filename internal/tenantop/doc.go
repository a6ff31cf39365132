// Package tenantop is a multi-tenant OpenID provider for tests, shaped like
// Entra ID: every tenant has its own issuer, https://<host>/<tenant>/v2.0,
// with its own discovery document at <issuer>/.well-known/openid-configuration
// naming its own key set at /<tenant>/discovery/v2.0/keys, and tokens that
// carry the tenant in "tid". Tenants sign with keys of their own, all
// named "k1" at first, so that a test can show that a kid is never enough
// to pick a key across tenants.
//
// It serves real HTTP on loopback (httptest), so jwksfetch finds the keys by
// discovery exactly as it does at a real provider, and counts the requests
// each tenant gets.
//
//	op := tenantop.Start(t, "tenant-a", "tenant-b")
//	cfg := `{"providers": {"entra": {"issuer": "` + op.Template() + `", "tenants": ["tenant-a", "tenant-b"]}}}`
//	tok := op.Mint(t, "tenant-a", issuer.Claims{"sub": "alice"})
//	op.Rotate(t, "tenant-b", "k2") // tenant-b signs with a new key from now on
package tenantop
