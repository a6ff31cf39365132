package keycloaktest

import (
	"net/http"
	"net/url"
	"strings"
)

// LoginClientOptions shape a client made by CreateLoginClient.
type LoginClientOptions struct {
	// RedirectURIs are the exact redirect URIs the authorization code flow
	// may send browsers back to.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where the end_session_endpoint may send
	// browsers after a logout.
	PostLogoutRedirectURIs []string
	// Audiences are values added to the access tokens' aud, each by an
	// audience mapper, as in ClientOptions.
	Audiences []string
}

// CreateLoginClient creates a confidential client for the authorization
// code flow of a web application (a server that signs browsers in, as
// tokengate's "login" does): standard flow only, PKCE with S256 required,
// the given redirect and post-logout redirect URIs, and a random secret.
func (k *Keycloak) CreateLoginClient(realm, clientID string, o LoginClientOptions) (Client, error) {
	return k.createConfidential(realm, clientID, map[string]any{
		"standardFlowEnabled": true, "directAccessGrantsEnabled": false, "serviceAccountsEnabled": false,
		"implicitFlowEnabled": false, "redirectUris": o.RedirectURIs,
		"attributes": map[string]string{
			"pkce.code.challenge.method": "S256",
			"post.logout.redirect.uris":  strings.Join(o.PostLogoutRedirectURIs, "##"),
		},
	}, o.Audiences)
}

// SetAccessTokenLifespan sets how long the realm's access tokens live, in
// seconds (Keycloak's default is 300): short, a test sees sessions refresh.
func (k *Keycloak) SetAccessTokenLifespan(realm string, seconds int) error {
	_, err := k.admin(http.MethodPut, "/admin/realms/"+url.PathEscape(realm), map[string]any{"accessTokenLifespan": seconds}, nil)
	return wrap(err, "setting the access token lifespan of realm %q", realm)
}
