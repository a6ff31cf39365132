package gate

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// A preset fills in what a provider's tokens look like: where their scopes
// and roles are, whether ID tokens must be refused, and which other issuer
// strings the same keys sign for. Each value applies only where the
// provider does not set the field itself. docs/configuration.md has the
// table; the claim names follow each provider's documentation of its access
// tokens:
//
//   - Keycloak: "scope" (space-delimited), realm roles in
//     realm_access.roles, client roles in resource_access.<client>.roles;
//     ID tokens carry "typ": "ID" in the payload.
//   - Microsoft Entra ID: delegated scopes in "scp" (space-delimited), app
//     roles in "roles"; v1.0 tokens are issued by
//     https://sts.windows.net/<tenant>/ and v2.0 tokens by
//     https://login.microsoftonline.com/<tenant>/v2.0, with the same keys.
//   - Okta: "scp" (an array), groups in "groups" (when the authorization
//     server is set up to issue them).
//   - Auth0: "scope" (space-delimited), RBAC permissions in "permissions".
type preset struct {
	scopeClaims []string
	roleClaims  func(audiences []string) []string
	alsoIssuers func(issuer string) []string
}

var presets = map[string]preset{
	"keycloak": {
		scopeClaims: []string{"scope"},
		roleClaims: func(audiences []string) []string {
			out := []string{"realm_access.roles"}
			for _, a := range audiences {
				// Client roles live under the client id, which is the
				// audience Keycloak puts in access tokens for that client.
				out = append(out, "resource_access."+escapePath(a)+".roles")
			}
			return out
		},
	},
	"entra": {
		scopeClaims: []string{"scp"},
		roleClaims:  func([]string) []string { return []string{"roles"} },
		alsoIssuers: entraIssuers,
	},
	"okta": {
		scopeClaims: []string{"scp"},
		roleClaims:  func([]string) []string { return []string{"groups"} },
	},
	"auth0": {
		scopeClaims: []string{"scope"},
		roleClaims:  func([]string) []string { return []string{"permissions"} },
	},
}

// Presets lists the preset names, for usage texts.
func Presets() []string { return []string{"auth0", "entra", "keycloak", "okta"} }

// defaultScopeClaims are read without a preset: "scope" (RFC 8693 §4.2)
// and "scp" (Entra ID, Okta).
var defaultScopeClaims = []string{"scope", "scp"}

const (
	entraV1Prefix = "https://sts.windows.net/"
	entraV2Prefix = "https://login.microsoftonline.com/"
)

// entraIssuers pairs a tenant's v1.0 and v2.0 issuers: tokens of both
// versions are signed by the same keys, and which one a client gets depends
// on the API's accessTokenAcceptedVersion, not on the client.
func entraIssuers(issuer string) []string {
	if tid, ok := strings.CutPrefix(issuer, entraV1Prefix); ok && strings.HasSuffix(tid, "/") && strings.Count(tid, "/") == 1 {
		return []string{entraV2Prefix + strings.TrimSuffix(tid, "/") + "/v2.0"}
	}
	if rest, ok := strings.CutPrefix(issuer, entraV2Prefix); ok {
		if tid, ok := strings.CutSuffix(rest, "/v2.0"); ok && tid != "" && !strings.Contains(tid, "/") {
			return []string{entraV1Prefix + tid + "/"}
		}
	}
	return nil
}

// escapePath escapes the characters gjson gives a meaning to, so that a
// client id such as "api.example" is one path component.
func escapePath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`.*?|#@!\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// tokenShape reads preset, scope_claims, role_claims, refuse_id_tokens and
// also_issuers into p (whose issuer and audiences are already read).
func (c *compiler) tokenShape(path string, v gjson.Result, p *provider) {
	var pre preset
	if name := v.Get("preset"); name.Exists() {
		var ok bool
		if pre, ok = presets[c.str(path+".preset", name, "")]; !ok {
			c.fail(path+".preset", "must be one of \""+strings.Join(Presets(), "\", \"")+"\"")
			return
		}
		p.preset = name.Str
		p.refuseIDTokens = true
	}
	p.scopeClaims = defaultScopeClaims
	if pre.scopeClaims != nil {
		p.scopeClaims = pre.scopeClaims
	}
	if pre.roleClaims != nil {
		p.roleClaims = pre.roleClaims(p.audiences)
	}
	if pre.alsoIssuers != nil {
		p.alsoIssuers = pre.alsoIssuers(p.issuer)
	}
	if s := v.Get("scope_claims"); s.Exists() {
		p.scopeClaims = c.strings(path+".scope_claims", s)
	}
	if s := v.Get("role_claims"); s.Exists() {
		p.roleClaims = c.strings(path+".role_claims", s)
	}
	if s := v.Get("also_issuers"); s.Exists() {
		p.alsoIssuers = c.strings(path+".also_issuers", s)
		if !s.IsArray() || len(s.Array()) == 0 {
			p.alsoIssuers = nil
		}
	}
	for i, iss := range p.alsoIssuers {
		if iss == p.issuer {
			c.fail(path+".also_issuers["+strconv.Itoa(i)+"]", "repeats \"issuer\"")
		}
	}
	p.refuseIDTokens = c.boolean(path+".refuse_id_tokens", v.Get("refuse_id_tokens"), p.refuseIDTokens)
	for _, s := range p.scopeClaims {
		p.scopeIDs = append(p.scopeIDs, c.pathID(s))
	}
	for _, s := range p.roleClaims {
		p.roleIDs = append(p.roleIDs, c.pathID(s))
	}
}

// acceptsIssuer reports whether iss is the provider's issuer or one of its
// also_issuers.
func (p *provider) acceptsIssuer(iss string) bool {
	if iss == p.issuer {
		return true
	}
	for _, a := range p.alsoIssuers {
		if a == iss {
			return true
		}
	}
	return false
}

// isIDToken recognises an OpenID Connect ID token presented as an access
// token: Keycloak marks its ID tokens with "typ": "ID" in the payload, and
// any ID token may carry "nonce" or "at_hash" (OpenID Connect Core §2, §3.1.3.6),
// which access tokens do not, unless the JOSE header says "at+jwt"
// (RFC 9068 §2.1). An ID token proves who logged in to a client, not that
// the client may call this API.
func isIDToken(t *jws) bool {
	if typ := t.claims.Get("typ"); typ.Type == gjson.String && strings.EqualFold(typ.Str, "ID") {
		return true
	}
	if !t.claims.Get("nonce").Exists() && !t.claims.Get("at_hash").Exists() {
		return false
	}
	typ := t.header.Get("typ")
	return typ.Type != gjson.String || !typeAccepted([]string{"at+jwt"}, typ.Str)
}
