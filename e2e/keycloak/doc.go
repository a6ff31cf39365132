// Package keycloak runs tokengate against a real Keycloak: the OpenID
// provider most of its deployments sit behind. Tokens come from Keycloak's
// token endpoint, keys from its discovery document and key set (fetched by
// jwksfetch), and each case runs through both fronts users deploy: the
// tokengate-proxy binary, which runs jwksfetch in process, and Envoy 1.40,
// fed by the jwksfetch daemon over a path-based ECDS file.
//
// The tests cover what a model provider cannot show: that the providers are
// found by issuer alone; that Keycloak's client-credentials and password
// tokens are judged by realm, client scope, realm role, client role and
// group; how long a key rotation done the Keycloak way (a new key provider
// of higher priority) takes to reach each front and how many valid requests
// it refuses; and that when Keycloak becomes unreachable the last good keys
// keep working until max_stale, after which requests get 503.
// TestGuideMLflowRolesWithKeycloak runs docs/guide-mlflow-roles.md as printed
// (Envoy only) with the realm, client and roles its section 1 describes.
//
// One Keycloak serves the whole package (internal/keycloaktest). Run them
// with
//
//	make keycloak-test
//
// which installs Keycloak and Envoy first; `make test` runs them too.
package keycloak
