package gate

// Error is one way a request can be refused: the text sent to the client as
// error_description (short, fixed, never derived from the token), a stable
// code for metrics and logs, and how it is answered. Every Error is declared
// once, below, and that declaration is the whole table.
type Error struct {
	desc string
	code string
	kind kind
}

func (e *Error) Error() string { return e.desc }

// Code is the metric-friendly name, e.g. "token_expired".
func (e *Error) Code() string { return e.code }

// kind is how an Error is answered.
type kind uint8

const (
	kindMissing     kind = iota // 401, challenge without an error code (RFC 6750 §3.1)
	kindRequest                 // 400 invalid_request
	kindToken                   // 401 invalid_token
	kindScope                   // 403 insufficient_scope
	kindPrivilege               // 403 insufficient_scope without a scope list: the token lacks a role, claim or audience
	kindForbidden               // 403 access_denied, no challenge: a token cannot help
	kindUnavailable             // 503 with Retry-After: not the client's fault
)

// all lists every Error in declaration order, for Codes.
var all []*Error

func newError(code string, k kind, desc string) *Error {
	e := &Error{desc: desc, code: code, kind: k}
	all = append(all, e)
	return e
}

// The table: every way a request can be refused.
var (
	ErrTokenMissing        = newError("token_missing", kindMissing, "a bearer token is required")
	ErrRequestMalformed    = newError("request_malformed", kindRequest, "malformed authorization header")
	ErrTokenMultiple       = newError("token_multiple", kindRequest, "more than one token in the request")
	ErrPathAmbiguous       = newError("path_ambiguous", kindRequest, "the request path is not in canonical form")
	ErrMethodOverride      = newError("method_override", kindRequest, "method override headers are not accepted")
	ErrRequestAmbiguous    = newError("request_ambiguous", kindRequest, "the request repeats its method, path or host, or names two hosts")
	ErrTokenMalformed      = newError("token_malformed", kindToken, "malformed token")
	ErrTokenEncrypted      = newError("token_encrypted", kindToken, "encrypted tokens (JWE) are not accepted")
	ErrHeaderUnsupported   = newError("header_unsupported", kindToken, "unsupported critical or b64 header")
	ErrAlgorithmNotAllowed = newError("algorithm_not_allowed", kindToken, "signing algorithm not allowed")
	ErrIssuerNotAccepted   = newError("issuer_not_accepted", kindToken, "issuer not accepted")
	ErrUnknownKey          = newError("unknown_key", kindToken, "signing key not found")
	ErrSignatureInvalid    = newError("signature_invalid", kindToken, "signature is invalid")
	ErrClaimsMalformed     = newError("claims_malformed", kindToken, "malformed claims")
	ErrTokenExpired        = newError("token_expired", kindToken, "token has expired")
	ErrExpirationMissing   = newError("expiration_missing", kindToken, "token has no expiration")
	ErrTokenNotYetValid    = newError("token_not_yet_valid", kindToken, "token is not valid yet")
	ErrTokenUsedBeforeIAT  = newError("issued_in_future", kindToken, "token was issued in the future")
	ErrLifetimeTooLong     = newError("lifetime_too_long", kindToken, "token lifetime is too long")
	ErrAudienceNotAccepted = newError("audience_not_accepted", kindToken, "audience not accepted")
	ErrTypeNotAccepted     = newError("type_not_accepted", kindToken, "token type not accepted")
	ErrSubjectNotAccepted  = newError("subject_not_accepted", kindToken, "subject not accepted")
	ErrClaimNotAccepted    = newError("claim_not_accepted", kindToken, "a required claim is missing or has another value")
	ErrPassphraseInvalid   = newError("passphrase_invalid", kindToken, "passphrase not accepted")
	ErrPassphraseBusy      = newError("passphrase_busy", kindUnavailable, "too many passphrase checks at once; retry later")
	ErrIDToken             = newError("id_token", kindToken, "ID tokens are not accepted; send an access token")
	ErrScopeMissing        = newError("scope_missing", kindScope, "the token lacks a required scope")
	ErrRoleMissing         = newError("role_missing", kindPrivilege, "the token lacks a required role")
	ErrClaimRequirement    = newError("claim_requirement", kindPrivilege, "the token's claims do not allow this request")
	ErrAudienceMissing     = newError("audience_missing", kindPrivilege, "the token is not meant for this resource")
	ErrNoRule              = newError("no_rule", kindForbidden, "no rule allows this request")
	ErrKeysUnavailable     = newError("keys_unavailable", kindUnavailable, "signing keys for this issuer are not available yet; retry later")

	// Introspection (introspect.go).
	ErrTokenInactive            = newError("token_inactive", kindToken, "token is not active")
	ErrIntrospectionUnavailable = newError("introspection_unavailable", kindUnavailable, "the token could not be checked with its issuer; retry later")

	// Browser sign-in (login*.go). The steps that are not refusals (a
	// redirect to the provider, a signed-in redirect back, a refreshed
	// session, a logout) are answered locally too and counted under their
	// codes.
	ErrSessionInvalid      = newError("session_invalid", kindToken, "the session cookie is not valid; sign in again")
	ErrSessionExpired      = newError("session_expired", kindToken, "the session has expired; sign in again")
	ErrSessionMalformed    = newError("session_malformed", kindRequest, "the session cookie is malformed or given twice")
	ErrSessionEnded        = newError("session_ended", kindToken, "the provider ended the session; sign in again")
	ErrSessionNotRefreshed = newError("session_not_refreshed", kindUnavailable, "the session could not be refreshed now; retry later")
	ErrLoginBusy           = newError("login_busy", kindUnavailable, "too many requests wait for the provider; retry later")
	ErrLoginNoRandomness   = newError("login_no_randomness", kindUnavailable, "sign-in is not possible now (no randomness); retry later")
	ErrLoginState          = newError("login_state", kindRequest, "no sign-in started in this browser matches this callback; open the page again to sign in")
	ErrLoginStateExpired   = newError("login_state_expired", kindRequest, "the sign-in took too long; open the page again to sign in")
	ErrLoginCallback       = newError("login_callback_malformed", kindRequest, "the sign-in callback is malformed")
	ErrLoginDenied         = newError("login_denied", kindForbidden, "the provider did not sign you in")
	ErrLoginCode           = newError("login_code_refused", kindRequest, "the provider refused the authorization code (used already, or expired); open the page again to sign in")
	ErrLoginTokens         = newError("login_tokens_refused", kindForbidden, "the provider's tokens are not accepted here")
	ErrLoginProvider       = newError("login_provider_failed", kindUnavailable, "the provider's token endpoint failed; retry later")

	stepLoginRedirect  = newError("login_redirect", kindMissing, "redirected to the provider to sign in")
	stepSignedIn       = newError("signed_in", kindMissing, "signed in; redirected back")
	stepSessionRefresh = newError("session_refreshed", kindMissing, "session refreshed; the request is repeated")
	stepLogout         = newError("logout", kindMissing, "signed out")
)

// Codes lists every denial code, for metric definitions.
func Codes() []string {
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = e.code
	}
	return out
}

// deny builds the local response for err. scopes is the scope list of a
// kindScope answer.
func (g *Gate) deny(err error, scopes string) Decision {
	e, ok := err.(*Error)
	if !ok || e == nil {
		// An error outside the table is a bug; answer it as a server error
		// rather than guess.
		reason := "internal error: an error outside the table"
		if ok {
			reason += " (a nil *Error)"
		} else if err != nil {
			reason = "internal error: " + err.Error()
		}
		return Decision{Status: 500, Reason: reason, Code: "internal_error",
			Headers: jsonHeaders(), Body: body("internal_error", "the request could not be checked")}
	}
	k := e.kind
	d := Decision{Reason: e.desc, Code: e.code, Headers: jsonHeaders()}
	challenge := `Bearer realm="` + g.realm + `"`
	switch k {
	case kindMissing:
		d.Status = 401
		d.Headers = append(d.Headers, [2]string{"www-authenticate", challenge})
		d.Body = body("unauthorized", err.Error())
	case kindRequest:
		d.Status = 400
		d.Headers = append(d.Headers, [2]string{"www-authenticate", challenge + `, error="invalid_request", error_description="` + err.Error() + `"`})
		d.Body = body("invalid_request", err.Error())
	case kindToken:
		d.Status = 401
		d.Headers = append(d.Headers, [2]string{"www-authenticate", challenge + `, error="invalid_token", error_description="` + err.Error() + `"`})
		d.Body = body("invalid_token", err.Error())
	case kindScope:
		d.Status = 403
		d.Headers = append(d.Headers, [2]string{"www-authenticate", challenge + `, error="insufficient_scope", scope="` + scopes + `"`})
		d.Body = body("insufficient_scope", err.Error())
	case kindPrivilege:
		d.Status = 403
		d.Headers = append(d.Headers, [2]string{"www-authenticate", challenge + `, error="insufficient_scope", error_description="` + err.Error() + `"`})
		d.Body = body("insufficient_scope", err.Error())
	case kindForbidden:
		d.Status = 403
		d.Body = body("access_denied", err.Error())
	case kindUnavailable:
		d.Status = 503
		d.Headers = append(d.Headers, [2]string{"retry-after", g.retryAfter})
		d.Body = body("temporarily_unavailable", err.Error())
	}
	return d
}

func jsonHeaders() [][2]string {
	return [][2]string{{"content-type", "application/json"}, {"cache-control", "no-store"}}
}

// body renders {"error":code,"error_description":desc}. Both are fixed
// strings from this package, checked by a test to need no escaping.
func body(code, desc string) []byte {
	b := make([]byte, 0, 40+len(code)+len(desc))
	b = append(b, `{"error":"`...)
	b = append(b, code...)
	b = append(b, `","error_description":"`...)
	b = append(b, desc...)
	b = append(b, `"}`...)
	return b
}
