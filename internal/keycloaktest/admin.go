package keycloaktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// ErrAdminAPI is wrapped by every error of an admin REST API call that
// Keycloak answered with an unexpected status.
var ErrAdminAPI = errors.New("keycloak admin API")

// Issuer returns the issuer URL of realm, as Keycloak writes it into tokens
// and its discovery document when reached at k.URL.
func (k *Keycloak) Issuer(realm string) string {
	return k.URL + "/realms/" + url.PathEscape(realm)
}

// CreateRealm creates an enabled realm whose id is its name.
func (k *Keycloak) CreateRealm(realm string) error {
	_, err := k.admin(http.MethodPost, "/admin/realms", map[string]any{"id": realm, "realm": realm, "enabled": true}, nil)
	return wrap(err, "creating realm %q", realm)
}

// ClientOptions shape a client made by CreateClient.
type ClientOptions struct {
	// Audience adds an audience mapper, so that access tokens' aud
	// contains the client's own id.
	Audience bool
	// Audiences are more values for the access tokens' aud, each added by
	// an audience mapper (Keycloak's "Included Custom Audience"), as a
	// client gets the audience of the API it calls.
	Audiences []string
	// DefaultScopes are names of client scopes (CreateClientScope) added to
	// the client as default scopes: they are in every token's scope.
	DefaultScopes []string
	// DirectAccessGrants enables the resource owner password grant
	// (PasswordToken).
	DirectAccessGrants bool
}

// Client is a confidential client.
type Client struct {
	ID       string // Keycloak's internal id, used in admin API paths
	ClientID string
	Secret   string
}

// CreateClient creates a confidential client of realm with a random secret
// and the client credentials grant enabled (a service-account user).
func (k *Keycloak) CreateClient(realm, clientID string, o ClientOptions) (Client, error) {
	auds := o.Audiences
	if o.Audience {
		auds = append([]string{clientID}, auds...)
	}
	c, err := k.createConfidential(realm, clientID, map[string]any{
		"serviceAccountsEnabled": true, "standardFlowEnabled": false,
		"directAccessGrantsEnabled": o.DirectAccessGrants,
	}, auds)
	if err != nil {
		return Client{}, err
	}
	for _, name := range o.DefaultScopes {
		id, err := k.clientScopeID(realm, name)
		if err != nil {
			return Client{}, err
		}
		_, err = k.admin(http.MethodPut, k.clientPath(realm, c.ID)+"/default-client-scopes/"+url.PathEscape(id), nil, nil)
		if err != nil {
			return Client{}, wrap(err, "adding client scope %q to client %q", name, clientID)
		}
	}
	return c, nil
}

// createConfidential creates a confidential client of realm with a random
// secret, the members of rep (its flows), and an audience mapper per
// audience; the first mapper of a client's own audience is named
// "audience".
func (k *Keycloak) createConfidential(realm, clientID string, rep map[string]any, audiences []string) (Client, error) {
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return Client{}, fmt.Errorf("keycloaktest: %w", err)
	}
	c := Client{ClientID: clientID, Secret: hex.EncodeToString(secret)}
	maps.Copy(rep, map[string]any{
		"clientId": clientID, "enabled": true, "protocol": "openid-connect",
		"publicClient": false, "clientAuthenticatorType": "client-secret", "secret": c.Secret,
	})
	var mappers []any
	for i, aud := range audiences {
		name := "audience-" + aud
		if i == 0 && aud == clientID {
			name = "audience"
		}
		mappers = append(mappers, map[string]any{
			"name": name, "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
			"config": map[string]string{"included.custom.audience": aud,
				"access.token.claim": "true", "id.token.claim": "false", "introspection.token.claim": "true"},
		})
	}
	if mappers != nil {
		rep["protocolMappers"] = mappers
	}
	loc, err := k.admin(http.MethodPost, "/admin/realms/"+url.PathEscape(realm)+"/clients", rep, nil)
	if err != nil {
		return Client{}, wrap(err, "creating client %q in realm %q", clientID, realm)
	}
	c.ID = path.Base(loc)
	return c, nil
}

// CreateClientScope creates an OpenID Connect client scope that is written
// into the scope claim of the tokens of the clients that have it.
func (k *Keycloak) CreateClientScope(realm, name string) error {
	_, err := k.admin(http.MethodPost, "/admin/realms/"+url.PathEscape(realm)+"/client-scopes", map[string]any{
		"name": name, "protocol": "openid-connect",
		"attributes": map[string]string{"include.in.token.scope": "true", "display.on.consent.screen": "false"},
	}, nil)
	return wrap(err, "creating client scope %q in realm %q", name, realm)
}

func (k *Keycloak) clientScopeID(realm, name string) (string, error) {
	var scopes []struct{ ID, Name string }
	if _, err := k.admin(http.MethodGet, "/admin/realms/"+url.PathEscape(realm)+"/client-scopes", nil, &scopes); err != nil {
		return "", wrap(err, "listing client scopes of realm %q", realm)
	}
	for _, s := range scopes {
		if s.Name == name {
			return s.ID, nil
		}
	}
	return "", fmt.Errorf("keycloaktest: realm %q has no client scope %q (create it with CreateClientScope first)", realm, name)
}

// CreateRealmRole creates a realm role.
func (k *Keycloak) CreateRealmRole(realm, role string) error {
	_, err := k.admin(http.MethodPost, "/admin/realms/"+url.PathEscape(realm)+"/roles", map[string]any{"name": role}, nil)
	return wrap(err, "creating realm role %q in realm %q", role, realm)
}

// CreateClientRole creates a role of the client whose internal id is clientUUID.
func (k *Keycloak) CreateClientRole(realm, clientUUID, role string) error {
	_, err := k.admin(http.MethodPost, k.clientPath(realm, clientUUID)+"/roles", map[string]any{"name": role}, nil)
	return wrap(err, "creating client role %q in realm %q", role, realm)
}

// AssignRealmRole grants a realm role to the service-account user of client c.
func (k *Keycloak) AssignRealmRole(realm string, c Client, role string) error {
	user, err := k.serviceAccount(realm, c)
	if err != nil {
		return err
	}
	var rep json.RawMessage
	if _, err := k.admin(http.MethodGet, "/admin/realms/"+url.PathEscape(realm)+"/roles/"+url.PathEscape(role), nil, &rep); err != nil {
		return wrap(err, "reading realm role %q", role)
	}
	_, err = k.admin(http.MethodPost, k.userPath(realm, user)+"/role-mappings/realm", []json.RawMessage{rep}, nil)
	return wrap(err, "granting realm role %q to client %q", role, c.ClientID)
}

// AssignClientRole grants role of the client whose internal id is
// roleClientUUID to the service-account user of client c. The token carries
// it in resource_access.<that client's id>.roles.
func (k *Keycloak) AssignClientRole(realm string, c Client, roleClientUUID, role string) error {
	user, err := k.serviceAccount(realm, c)
	if err != nil {
		return err
	}
	var rep json.RawMessage
	if _, err := k.admin(http.MethodGet, k.clientPath(realm, roleClientUUID)+"/roles/"+url.PathEscape(role), nil, &rep); err != nil {
		return wrap(err, "reading client role %q", role)
	}
	_, err = k.admin(http.MethodPost, k.userPath(realm, user)+"/role-mappings/clients/"+url.PathEscape(roleClientUUID), []json.RawMessage{rep}, nil)
	return wrap(err, "granting client role %q to client %q", role, c.ClientID)
}

func (k *Keycloak) serviceAccount(realm string, c Client) (string, error) {
	var user struct{ ID string }
	if _, err := k.admin(http.MethodGet, k.clientPath(realm, c.ID)+"/service-account-user", nil, &user); err != nil {
		return "", wrap(err, "finding the service-account user of client %q", c.ClientID)
	}
	return user.ID, nil
}

// CreateUser creates an enabled user with a complete profile (so that the
// password grant does not ask for more) and a permanent password, and
// returns the user's id.
func (k *Keycloak) CreateUser(realm, username, password string) (string, error) {
	loc, err := k.admin(http.MethodPost, "/admin/realms/"+url.PathEscape(realm)+"/users", map[string]any{
		"username": username, "enabled": true, "email": username + "@example.com", "emailVerified": true,
		"firstName": username, "lastName": "Test",
		"credentials": []any{map[string]any{"type": "password", "value": password, "temporary": false}},
	}, nil)
	if err != nil {
		return "", wrap(err, "creating user %q in realm %q", username, realm)
	}
	return path.Base(loc), nil
}

// CreateGroup creates a top-level group and returns its id.
func (k *Keycloak) CreateGroup(realm, name string) (string, error) {
	loc, err := k.admin(http.MethodPost, "/admin/realms/"+url.PathEscape(realm)+"/groups", map[string]any{"name": name}, nil)
	if err != nil {
		return "", wrap(err, "creating group %q in realm %q", name, realm)
	}
	return path.Base(loc), nil
}

// AddUserToGroup makes a user a member of a group.
func (k *Keycloak) AddUserToGroup(realm, userID, groupID string) error {
	_, err := k.admin(http.MethodPut, k.userPath(realm, userID)+"/groups/"+url.PathEscape(groupID), nil, nil)
	return wrap(err, "adding user %s to group %s", userID, groupID)
}

// AddGroupMembershipMapper makes client c's access tokens carry the names of
// the user's groups (without their paths) in claim.
func (k *Keycloak) AddGroupMembershipMapper(realm string, c Client, claim string) error {
	_, err := k.admin(http.MethodPost, k.clientPath(realm, c.ID)+"/protocol-mappers/models", map[string]any{
		"name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
		"config": map[string]string{"claim.name": claim, "full.path": "false",
			"access.token.claim": "true", "id.token.claim": "false", "userinfo.token.claim": "false"},
	}, nil)
	return wrap(err, "adding a group membership mapper to client %q", c.ClientID)
}

// keyProviderType is the component type of key providers.
const keyProviderType = "org.keycloak.keys.KeyProvider"

// AddRSAKeyProvider adds a provider that generates a 2048-bit RS256 signing
// key, and returns its component id. Keycloak signs new tokens with the
// active key of the highest priority; a new realm's own provider has 100.
func (k *Keycloak) AddRSAKeyProvider(realm, name string, priority int) (string, error) {
	p := strconv.Itoa(priority)
	loc, err := k.admin(http.MethodPost, "/admin/realms/"+url.PathEscape(realm)+"/components", map[string]any{
		"name": name, "providerId": "rsa-generated", "providerType": keyProviderType, "parentId": realm,
		"config": map[string][]string{"priority": {p}, "keySize": {"2048"}, "algorithm": {"RS256"},
			"active": {"true"}, "enabled": {"true"}},
	}, nil)
	if err != nil {
		return "", wrap(err, "adding RSA key provider %q (priority %d) to realm %q", name, priority, realm)
	}
	return path.Base(loc), nil
}

// DisableKeyProvider disables a key provider: its key neither signs nor
// appears in the realm's key set any more.
func (k *Keycloak) DisableKeyProvider(realm, componentID string) error {
	p := "/admin/realms/" + url.PathEscape(realm) + "/components/" + url.PathEscape(componentID)
	var rep map[string]any
	if _, err := k.admin(http.MethodGet, p, nil, &rep); err != nil {
		return wrap(err, "reading key provider %s", componentID)
	}
	cfg, _ := rep["config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
	}
	cfg["enabled"], cfg["active"] = []string{"false"}, []string{"false"}
	rep["config"] = cfg
	_, err := k.admin(http.MethodPut, p, rep, nil)
	return wrap(err, "disabling key provider %s", componentID)
}

// SigningKey returns the kid of the key that signs realm's RS256 tokens now,
// and the id of the provider that holds it.
func (k *Keycloak) SigningKey(realm string) (kid, providerID string, err error) {
	var keys struct {
		Active map[string]string `json:"active"`
		Keys   []struct {
			Kid        string `json:"kid"`
			ProviderID string `json:"providerId"`
		} `json:"keys"`
	}
	if _, err := k.admin(http.MethodGet, "/admin/realms/"+url.PathEscape(realm)+"/keys", nil, &keys); err != nil {
		return "", "", wrap(err, "reading the keys of realm %q", realm)
	}
	kid = keys.Active["RS256"]
	for _, key := range keys.Keys {
		if key.Kid == kid {
			return kid, key.ProviderID, nil
		}
	}
	return "", "", fmt.Errorf("keycloaktest: realm %q has no active RS256 key", realm)
}

// Token obtains an access token with the client credentials grant from the
// realm whose issuer URL is issuer (Issuer, or the realm reached at another
// address: the token's iss names the address it was requested at).
func (k *Keycloak) Token(issuer, clientID, secret string) (string, error) {
	return k.grant(issuer, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}})
}

// PasswordToken obtains a user's access token with the resource owner
// password grant (the client needs DirectAccessGrants).
func (k *Keycloak) PasswordToken(issuer, clientID, secret, username, password string) (string, error) {
	return k.grant(issuer, url.Values{"grant_type": {"password"}, "client_id": {clientID}, "client_secret": {secret},
		"username": {username}, "password": {password}, "scope": {"openid"}})
}

func (k *Keycloak) grant(issuer string, form url.Values) (string, error) {
	endpoint := issuer + "/protocol/openid-connect/token"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("keycloaktest: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := k.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("keycloaktest: %s grant at %s: %w", form.Get("grant_type"), endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("keycloaktest: reading the token response of %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("keycloaktest: %s grant at %s: %w: %s: %s", form.Get("grant_type"), endpoint, ErrAdminAPI, resp.Status, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("keycloaktest: %s answered no access_token: %w", endpoint, errors.Join(err, ErrAdminAPI))
	}
	return tok.AccessToken, nil
}

// token returns an admin access token of the master realm, reusing one
// until shortly before it expires (they live 60 s).
func (k *Keycloak) token() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.adminToken != "" && time.Now().Before(k.adminExpiry) {
		return k.adminToken, nil
	}
	issued := time.Now()
	tok, err := k.grant(k.Issuer("master"), url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {AdminUser}, "password": {AdminPassword}})
	if err != nil {
		return "", err
	}
	k.adminToken, k.adminExpiry = tok, issued.Add(40*time.Second)
	return tok, nil
}

// admin calls the admin REST API with body as JSON, decodes a JSON answer
// into out when it is not nil, and returns the Location header.
func (k *Keycloak) admin(method, p string, body, out any) (string, error) {
	tok, err := k.token()
	if err != nil {
		return "", err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return "", err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, k.URL+p, rd)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := k.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("%w: %s %s: %s: %s", ErrAdminAPI, method, p, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return "", fmt.Errorf("%s %s: decoding the answer: %w", method, p, err)
		}
	}
	return resp.Header.Get("Location"), nil
}

func (k *Keycloak) clientPath(realm, clientUUID string) string {
	return "/admin/realms/" + url.PathEscape(realm) + "/clients/" + url.PathEscape(clientUUID)
}

func (k *Keycloak) userPath(realm, userID string) string {
	return "/admin/realms/" + url.PathEscape(realm) + "/users/" + url.PathEscape(userID)
}

// wrap prefixes err with what was being done; nil stays nil.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("keycloaktest: "+format+": %w", append(args, err)...)
}
