package gate

import "errors"

// Sentinel errors for every way a request can be refused. Their text is the
// error_description sent to the client: short, fixed, never derived from the
// token.
var (
	ErrTokenMissing        = errors.New("a bearer token is required")
	ErrRequestMalformed    = errors.New("malformed authorization header")
	ErrTokenMultiple       = errors.New("more than one token in the request")
	ErrPathAmbiguous       = errors.New("the request path is not in canonical form")
	ErrMethodOverride      = errors.New("method override headers are not accepted")
	ErrTokenMalformed      = errors.New("malformed token")
	ErrTokenEncrypted      = errors.New("encrypted tokens (JWE) are not accepted")
	ErrHeaderUnsupported   = errors.New("unsupported critical or b64 header")
	ErrAlgorithmNotAllowed = errors.New("signing algorithm not allowed")
	ErrIssuerNotAccepted   = errors.New("issuer not accepted")
	ErrUnknownKey          = errors.New("signing key not found")
	ErrSignatureInvalid    = errors.New("signature is invalid")
	ErrClaimsMalformed     = errors.New("malformed claims")
	ErrTokenExpired        = errors.New("token has expired")
	ErrExpirationMissing   = errors.New("token has no expiration")
	ErrTokenNotYetValid    = errors.New("token is not valid yet")
	ErrTokenUsedBeforeIAT  = errors.New("token was issued in the future")
	ErrLifetimeTooLong     = errors.New("token lifetime is too long")
	ErrAudienceNotAccepted = errors.New("audience not accepted")
	ErrTypeNotAccepted     = errors.New("token type not accepted")
	ErrSubjectNotAccepted  = errors.New("subject not accepted")
	ErrClaimNotAccepted    = errors.New("a required claim is missing or has another value")
	ErrPassphraseInvalid   = errors.New("passphrase not accepted")
	ErrPassphraseBusy      = errors.New("too many passphrase checks at once; retry later")
	ErrScopeMissing        = errors.New("the token lacks a required scope")
	ErrNoRule              = errors.New("no rule allows this request")
	ErrKeysUnavailable     = errors.New("signing keys for this issuer are not available yet; retry later")
)

// codes names each error for metrics and structured logs.
var codes = map[error]string{
	ErrTokenMissing:        "token_missing",
	ErrRequestMalformed:    "request_malformed",
	ErrTokenMultiple:       "token_multiple",
	ErrPathAmbiguous:       "path_ambiguous",
	ErrMethodOverride:      "method_override",
	ErrTokenMalformed:      "token_malformed",
	ErrTokenEncrypted:      "token_encrypted",
	ErrHeaderUnsupported:   "header_unsupported",
	ErrAlgorithmNotAllowed: "algorithm_not_allowed",
	ErrIssuerNotAccepted:   "issuer_not_accepted",
	ErrUnknownKey:          "unknown_key",
	ErrSignatureInvalid:    "signature_invalid",
	ErrClaimsMalformed:     "claims_malformed",
	ErrTokenExpired:        "token_expired",
	ErrExpirationMissing:   "expiration_missing",
	ErrTokenNotYetValid:    "token_not_yet_valid",
	ErrTokenUsedBeforeIAT:  "issued_in_future",
	ErrLifetimeTooLong:     "lifetime_too_long",
	ErrAudienceNotAccepted: "audience_not_accepted",
	ErrTypeNotAccepted:     "type_not_accepted",
	ErrSubjectNotAccepted:  "subject_not_accepted",
	ErrClaimNotAccepted:    "claim_not_accepted",
	ErrPassphraseInvalid:   "passphrase_invalid",
	ErrPassphraseBusy:      "passphrase_busy",
	ErrScopeMissing:        "scope_missing",
	ErrNoRule:              "no_rule",
	ErrKeysUnavailable:     "keys_unavailable",
}

// Codes lists every denial code, for metric definitions.
func Codes() []string {
	out := make([]string, 0, len(codes))
	for _, err := range allErrors {
		out = append(out, codes[err])
	}
	return out
}

// allErrors fixes an order for Codes.
var allErrors = []error{ErrTokenMissing, ErrRequestMalformed, ErrTokenMultiple, ErrPathAmbiguous, ErrMethodOverride, ErrTokenMalformed,
	ErrTokenEncrypted, ErrHeaderUnsupported, ErrAlgorithmNotAllowed, ErrIssuerNotAccepted, ErrUnknownKey,
	ErrSignatureInvalid, ErrClaimsMalformed, ErrTokenExpired, ErrExpirationMissing, ErrTokenNotYetValid,
	ErrTokenUsedBeforeIAT, ErrLifetimeTooLong, ErrAudienceNotAccepted, ErrTypeNotAccepted, ErrSubjectNotAccepted,
	ErrClaimNotAccepted, ErrPassphraseInvalid, ErrPassphraseBusy, ErrScopeMissing, ErrNoRule, ErrKeysUnavailable}

// kind is how a sentinel error is answered.
type kind uint8

const (
	kindMissing     kind = iota // 401, challenge without an error code (RFC 6750 §3.1)
	kindRequest                 // 400 invalid_request
	kindToken                   // 401 invalid_token
	kindScope                   // 403 insufficient_scope
	kindForbidden               // 403 access_denied, no challenge: a token cannot help
	kindUnavailable             // 503 with Retry-After: not the client's fault
)

// answers is the one table from error to response.
var answers = map[error]kind{
	ErrTokenMissing:        kindMissing,
	ErrRequestMalformed:    kindRequest,
	ErrTokenMultiple:       kindRequest,
	ErrPathAmbiguous:       kindRequest,
	ErrMethodOverride:      kindRequest,
	ErrTokenMalformed:      kindToken,
	ErrTokenEncrypted:      kindToken,
	ErrHeaderUnsupported:   kindToken,
	ErrAlgorithmNotAllowed: kindToken,
	ErrIssuerNotAccepted:   kindToken,
	ErrUnknownKey:          kindToken,
	ErrSignatureInvalid:    kindToken,
	ErrClaimsMalformed:     kindToken,
	ErrTokenExpired:        kindToken,
	ErrExpirationMissing:   kindToken,
	ErrTokenNotYetValid:    kindToken,
	ErrTokenUsedBeforeIAT:  kindToken,
	ErrLifetimeTooLong:     kindToken,
	ErrAudienceNotAccepted: kindToken,
	ErrTypeNotAccepted:     kindToken,
	ErrSubjectNotAccepted:  kindToken,
	ErrClaimNotAccepted:    kindToken,
	ErrPassphraseInvalid:   kindToken,
	ErrPassphraseBusy:      kindUnavailable,
	ErrScopeMissing:        kindScope,
	ErrNoRule:              kindForbidden,
	ErrKeysUnavailable:     kindUnavailable,
}

// deny builds the local response for err. scopes is the scope list of a
// kindScope answer.
func (g *Gate) deny(err error, scopes string) Decision {
	k, ok := answers[err]
	if !ok {
		// An error outside the table is a bug; answer it as a server error
		// rather than guess.
		return Decision{Status: 500, Reason: "internal error: " + err.Error(), Code: "internal_error",
			Headers: jsonHeaders(), Body: body("internal_error", "the request could not be checked")}
	}
	d := Decision{Reason: err.Error(), Code: codes[err], Headers: jsonHeaders()}
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
