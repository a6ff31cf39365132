package gate

import (
	"strconv"
	"time"

	"github.com/tidwall/gjson"
)

// verifyIDToken checks an ID token the token endpoint returned to l's
// client, as OpenID Connect Core §3.1.3.7 asks: the signature with the
// provider's keys and algorithms, iss exactly the provider's issuer, aud
// holding the client id, azp (when present, and required with several
// audiences) the client id, exp and iat with the provider's clock skew,
// and the nonce of the sign-in when nonce is not empty. It returns the
// token's sub, or what is wrong ("" when nothing is), for the log; never
// the token.
func (l *login) verifyIDToken(raw, nonce string, now time.Time) (sub, problem string) {
	p := l.provider
	t, err := parseJWS(raw)
	if err != nil {
		return "", err.Error()
	}
	iss := t.claims.Get("iss")
	if iss.Type != gjson.String || iss.Str != p.issuer {
		return "", "iss " + logValue(iss.Raw) + " is not the provider's issuer"
	}
	if err := p.verifySignature(t); err != nil {
		return "", err.Error() + " (alg " + logValue(strconv.Quote(t.alg)) + ", kid " + logValue(strconv.Quote(t.kid)) + ")"
	}
	aud := t.claims.Get("aud")
	if audienceIn(aud, []string{l.clientID}) != nil {
		return "", "aud " + logValue(aud.Raw) + " does not hold the client id"
	}
	azp := t.claims.Get("azp")
	switch {
	case azp.Exists() && (azp.Type != gjson.String || azp.Str != l.clientID):
		return "", "azp " + logValue(azp.Raw) + " is not the client id"
	case !azp.Exists() && aud.IsArray() && len(aud.Array()) > 1:
		return "", "several audiences and no azp"
	}
	tt, err := readTimes(t.claims)
	secs := float64(now.UnixNano()) / 1e9
	switch {
	case err != nil:
		return "", err.Error()
	case !tt.hasExp:
		return "", "no exp"
	case secs >= tt.exp+p.skew:
		return "", "expired (exp " + logValue(t.claims.Get("exp").Raw) + ")"
	case !tt.hasIat:
		return "", "no iat"
	case tt.iat > secs+p.skew:
		return "", "issued in the future (iat " + logValue(t.claims.Get("iat").Raw) + ")"
	case tt.hasNbf && secs+p.skew < tt.nbf:
		return "", "not valid yet (nbf " + logValue(t.claims.Get("nbf").Raw) + ")"
	}
	if nonce != "" {
		if n := t.claims.Get("nonce"); n.Type != gjson.String || n.Str != nonce {
			return "", "the nonce is not the sign-in's"
		}
	}
	s := t.claims.Get("sub")
	if s.Type != gjson.String || s.Str == "" {
		return "", "no sub"
	}
	return s.Str, ""
}

// verifyRefreshedIDToken checks an ID token of a refresh (OpenID Connect
// Core §12.2): valid as verifyIDToken says, for the same sub as the
// session's ID token, and with its nonce when it carries one.
func (l *login) verifyRefreshedIDToken(raw, old string, now time.Time) string {
	sub, problem := l.verifyIDToken(raw, "", now)
	if problem != "" {
		return problem
	}
	prev, err := parseJWS(old)
	if err != nil {
		return "the session's ID token: " + err.Error()
	}
	if s := prev.claims.Get("sub"); s.Type != gjson.String || s.Str != sub {
		return "sub differs from the session's"
	}
	t, _ := parseJWS(raw)
	if n := t.claims.Get("nonce"); n.Exists() && n.Raw != prev.claims.Get("nonce").Raw {
		return "the nonce differs from the session's"
	}
	return ""
}
