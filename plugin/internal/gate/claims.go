package gate

import (
	"math"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
)

// checkStatic applies the claim rules that do not depend on time: type,
// audience, subject and claim requirements. (Issuer was matched when the
// provider was chosen.)
func (p *provider) checkStatic(t *jws) error {
	if p.refuseIDTokens && isIDToken(t) {
		return ErrIDToken
	}
	if len(p.types) > 0 {
		typ := t.header.Get("typ")
		if typ.Type != gjson.String || !typeAccepted(p.types, typ.Str) {
			return ErrTypeNotAccepted
		}
	}
	if len(p.audiences) > 0 {
		if err := p.checkAudience(t.claims.Get("aud")); err != nil {
			return err
		}
	}
	if len(p.subjects) > 0 {
		sub := t.claims.Get("sub")
		if sub.Type != gjson.String || !slices.Contains(p.subjects, sub.Str) {
			return ErrSubjectNotAccepted
		}
	}
	for i := range p.claims {
		if !p.claims[i].satisfied(t.claims) {
			return ErrClaimNotAccepted
		}
	}
	return nil
}

// typeAccepted compares media types the way RFC 7515 §4.1.9 asks: case
// insensitive, "application/" optional.
func typeAccepted(accepted []string, typ string) bool {
	typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
	for _, a := range accepted {
		if strings.TrimPrefix(strings.ToLower(a), "application/") == typ {
			return true
		}
	}
	return false
}

func (p *provider) checkAudience(aud gjson.Result) error {
	return audienceIn(aud, p.audiences)
}

// times are a token's time claims, read once.
type times struct {
	exp, nbf, iat          float64
	hasExp, hasNbf, hasIat bool
}

// readTimes reads exp, nbf and iat as RFC 7519 NumericDates.
func readTimes(claims gjson.Result) (t times, err error) {
	if t.exp, t.hasExp, err = numericDate(claims.Get("exp")); err != nil {
		return t, err
	}
	if t.nbf, t.hasNbf, err = numericDate(claims.Get("nbf")); err != nil {
		return t, err
	}
	t.iat, t.hasIat, err = numericDate(claims.Get("iat"))
	return t, err
}

// checkTime applies exp, nbf, iat and the lifetime limit at now (seconds),
// with the provider's clock skew. It runs on every request, cached or not.
func (p *provider) checkTime(t times, now float64) error {
	if t.hasExp && now >= t.exp+p.skew {
		return ErrTokenExpired
	}
	if !t.hasExp && (p.requireExp || p.maxLife > 0) {
		return ErrExpirationMissing
	}
	if t.hasNbf && now+p.skew < t.nbf {
		return ErrTokenNotYetValid
	}
	if t.hasIat && t.iat > now+p.skew {
		return ErrTokenUsedBeforeIAT
	}
	if p.maxLife > 0 {
		start := now
		if t.hasIat {
			start = t.iat
		}
		if t.exp-start > p.maxLife+p.skew {
			return ErrLifetimeTooLong
		}
	}
	return nil
}

// outputs renders the headers a verified token sets upstream.
func (p *provider) outputs(claims gjson.Result, payload string) [][2]string {
	var out [][2]string
	for _, h := range p.toHeaders {
		if value, ok := headerValue(claims.Get(h.claim)); ok {
			out = append(out, [2]string{h.header, value})
		}
	}
	if p.payloadHdr != "" {
		out = append(out, [2]string{p.payloadHdr, payload})
	}
	return out
}

// numericDate reads an RFC 7519 NumericDate: a JSON number, finite.
func numericDate(v gjson.Result) (float64, bool, error) {
	if !v.Exists() {
		return 0, false, nil
	}
	if v.Type != gjson.Number || math.IsInf(v.Num, 0) || math.IsNaN(v.Num) {
		return 0, false, ErrClaimsMalformed
	}
	return v.Num, true, nil
}

// grantedScopes reports whether claims grant every scope in want, read where
// a provider without a preset reads them: "scope" (RFC 8693 §4.2, a
// space-delimited string) and "scp" (Entra ID and Okta), each a string or an
// array of strings. Rules use provider.hasScope, the same check on the
// provider's scope_claims.
func grantedScopes(claims gjson.Result, want []string) bool {
	vals := []gjson.Result{claims.Get("scope"), claims.Get("scp")}
	p := provider{scopeIDs: []int{0, 1}}
	for _, w := range want {
		t := tstring{text: w}
		if !p.hasScope(vals, &t, nil) {
			return false
		}
	}
	return true
}

// hasValue reports whether v (a space-delimited string or an array of
// strings) contains s.
func hasValue(v gjson.Result, s string) bool {
	switch {
	case v.Type == gjson.String:
		for f := v.Str; f != ""; {
			var word string
			word, f, _ = strings.Cut(f, " ")
			if word == s {
				return true
			}
		}
	case v.IsArray():
		found := false
		v.ForEach(func(_, e gjson.Result) bool {
			found = e.Type == gjson.String && e.Str == s
			return !found
		})
		return found
	}
	return false
}

func (r *claimRule) satisfied(claims gjson.Result) bool {
	v := claims.Get(r.path)
	if !v.Exists() {
		return false
	}
	if r.equals != nil {
		for _, e := range r.equals {
			if sameJSON(v, e) {
				return true
			}
		}
		return false
	}
	for _, want := range r.has {
		ok := false
		if v.IsArray() {
			v.ForEach(func(_, e gjson.Result) bool {
				ok = sameJSON(e, want)
				return !ok
			})
		} else if want.Type == gjson.String {
			ok = hasValue(v, want.Str)
		}
		if !ok {
			return false
		}
	}
	return true
}

// sameJSON compares two JSON values: strings and numbers by value, the rest
// by their compact text.
func sameJSON(a, b gjson.Result) bool {
	if a.Type != b.Type {
		return false
	}
	switch a.Type {
	case gjson.String:
		return a.Str == b.Str
	case gjson.Number:
		return a.Num == b.Num
	case gjson.True, gjson.False, gjson.Null:
		return true
	}
	return compact(a.Raw) == compact(b.Raw)
}

// compact drops insignificant whitespace from JSON text.
func compact(s string) string {
	var b strings.Builder
	inString := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inString:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
			b.WriteByte(c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// headerValue renders a claim for an upstream header: strings as they are,
// numbers and booleans as JSON text, arrays joined by commas, objects as
// compact JSON. A value with control characters is not forwarded.
func headerValue(v gjson.Result) (string, bool) {
	var s string
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return "", false
	case v.Type == gjson.String:
		s = v.Str
	case v.IsArray():
		var parts []string
		v.ForEach(func(_, e gjson.Result) bool {
			if e.Type == gjson.String {
				parts = append(parts, e.Str)
			} else {
				parts = append(parts, compact(e.Raw))
			}
			return true
		})
		s = strings.Join(parts, ",")
	default:
		s = compact(v.Raw)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	return s, true
}
