package gate

import (
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/jsonstrict"
	"github.com/tokengate/tokengate/internal/jwk"
)

// maxTokenBytes bounds the work one request can cause. Real access tokens are
// a few KiB at most.
const maxTokenBytes = 16 << 10

// jws is a parsed compact JWS (RFC 7515 §7.1) whose header and payload are
// JSON objects. Nothing in it has been verified yet.
type jws struct {
	raw          string
	signingInput string // header.payload, exactly as received
	payloadB64   string
	header       gjson.Result
	claims       gjson.Result
	signature    []byte
	alg, kid     string
}

// parseJWS splits and decodes a compact JWS. It enforces the format rules of
// docs/security-rules.md that do not depend on keys or time.
func parseJWS(token string) (*jws, error) {
	if len(token) > maxTokenBytes {
		return nil, ErrTokenMalformed
	}
	dot1 := strings.IndexByte(token, '.')
	if dot1 < 0 {
		return nil, ErrTokenMalformed
	}
	dot2 := dot1 + 1 + strings.IndexByte(token[dot1+1:], '.')
	if dot2 == dot1 {
		return nil, ErrTokenMalformed
	}
	if rest := strings.Count(token[dot2+1:], "."); rest != 0 {
		if rest == 2 {
			return nil, ErrTokenEncrypted
		}
		return nil, ErrTokenMalformed
	}
	t := &jws{raw: token, signingInput: token[:dot2], payloadB64: token[dot1+1 : dot2]}
	hdr, err := jwk.DecodeSegment(token[:dot1])
	if err != nil || len(hdr) == 0 {
		return nil, ErrTokenMalformed
	}
	payload, err := jwk.DecodeSegment(t.payloadB64)
	if err != nil || len(payload) == 0 {
		return nil, ErrTokenMalformed
	}
	if t.signature, err = jwk.DecodeSegment(token[dot2+1:]); err != nil || len(t.signature) == 0 {
		return nil, ErrTokenMalformed
	}
	if t.header, err = object(hdr); err != nil {
		return nil, ErrTokenMalformed
	}
	if t.claims, err = object(payload); err != nil {
		return nil, ErrClaimsMalformed
	}
	alg := t.header.Get("alg")
	if alg.Type != gjson.String || alg.Str == "" {
		return nil, ErrTokenMalformed
	}
	t.alg = alg.Str
	if kid := t.header.Get("kid"); kid.Exists() {
		if kid.Type != gjson.String {
			return nil, ErrTokenMalformed
		}
		t.kid = kid.Str
	}
	// This verifier understands no critical extension (RFC 7515 §4.1.11), and
	// an unencoded payload (RFC 7797) is never a JWT.
	if t.header.Get("crit").Exists() || t.header.Get("b64").Exists() {
		return nil, ErrHeaderUnsupported
	}
	return t, nil
}

// object parses a JSON object strictly (internal/jsonstrict): UTF-8 only
// (RFC 8725 §3.7), nested at most jsonstrict.MaxDepth levels, and no member
// name twice at any depth (parsers disagree on duplicates, so a claim such
// as realm_access.roles could mean one thing here and another to a back-end
// reading the forwarded payload; RFC 7515 §4 and RFC 7519 §4 require
// rejecting them). The result reads b in place: b must never change
// afterwards (parseJWS gives it buffers fresh from decoding).
func object(b []byte) (gjson.Result, error) {
	if jsonstrict.Check(b) != nil {
		return gjson.Result{}, ErrTokenMalformed
	}
	r := gjson.Parse(unsafe.String(unsafe.SliceData(b), len(b)))
	if !r.IsObject() {
		return gjson.Result{}, ErrTokenMalformed
	}
	return r, nil
}
