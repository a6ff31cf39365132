package gate

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tokengate/tokengate/internal/jwk"
)

// The differential fuzz target checks the gate's accept/refuse decision
// against an oracle built on go-jose (an independent JWS parser, JWK parser
// and signature implementation) and encoding/json (an independent JSON
// parser), for tokens the fuzzer shapes: any JOSE header and payload text,
// signed with any of the issuer's keys, then optionally corrupted.
//
// The gate must never accept what the oracle refuses. It may refuse what the
// oracle accepts only for the format rules it is deliberately stricter about
// (duplicate members, whitespace, "crit"/"b64", strict base64url): those
// refusals carry the malformed/unsupported reasons, and any other reason
// (signature, key, time, issuer, audience) on a token the oracle accepts is a
// wrongly refused good token.

// diffNow is the fixed time of every differential decision.
var diffNow = time.Unix(1_800_000_000, 0)

const diffSkew = 60 // the gate's default clock skew, seconds

// diffConfig is a single provider with audiences and default time rules.
func diffConfig(t testing.TB) string {
	return `{"providers":{"corp":{"issuer":"` + corpURL + `","audiences":["` + aud + `"],"jwks":` + string(fx(t).corp.JWKS()) + `}}}`
}

// oracleAlgorithms are the algorithms docs/configuration.md allows, as go-jose names
// them (go-jose does not know RFC 9864's "Ed25519"; the gate accepts it only
// with a key published for it, and the issuer publishes "EdDSA").
var oracleAlgorithms = map[string]bool{"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true,
	"PS512": true, "ES256": true, "ES384": true, "ES512": true, "EdDSA": true}

// oracle decides a token with go-jose and encoding/json only. It returns nil
// when the token is acceptable and otherwise why not.
func oracle(keys *jose.JSONWebKeySet, token string, now time.Time) error {
	sig, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{"RS256", "RS384", "RS512", "PS256", "PS384",
		"PS512", "ES256", "ES384", "ES512", "EdDSA"})
	if err != nil {
		return err
	}
	if len(sig.Signatures) != 1 {
		return errors.New("not one signature")
	}
	h := sig.Signatures[0].Protected
	if !oracleAlgorithms[h.Algorithm] {
		return errors.New("algorithm not allowed")
	}
	var payload []byte
	for _, k := range keys.Keys {
		// RFC 7517 §4.4/§4.5: a key published for another algorithm or
		// another use does not verify this token.
		if (h.KeyID != "" && k.KeyID != h.KeyID) || (k.Algorithm != "" && k.Algorithm != h.Algorithm) || (k.Use != "" && k.Use != "sig") {
			continue
		}
		if p, err := sig.Verify(k.Key); err == nil {
			payload = p
			break
		}
	}
	if payload == nil {
		return errors.New("no key verifies the signature")
	}
	return oracleClaims(payload, now)
}

// oracleClaims applies RFC 7519 §4.1 with the gate's defaults: iss exact,
// aud must include the audience, exp required, 60 s leeway on exp, nbf and
// iat.
func oracleClaims(payload []byte, now time.Time) error {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var c map[string]any
	if err := d.Decode(&c); err != nil || c == nil {
		return errors.New("claims are not a JSON object")
	}
	if _, err := d.Token(); err == nil {
		return errors.New("trailing data after the claims")
	}
	if iss, _ := c["iss"].(string); iss != corpURL {
		return errors.New("wrong issuer")
	}
	switch a := c["aud"].(type) {
	case string:
		if a != aud {
			return errors.New("wrong audience")
		}
	case []any:
		found := false
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return errors.New("audience array holds a non-string")
			}
			found = found || s == aud
		}
		if !found {
			return errors.New("wrong audience")
		}
	default:
		return errors.New("missing or malformed audience")
	}
	secs := float64(now.Unix())
	date := func(name string) (float64, bool, error) {
		v, ok := c[name]
		if !ok {
			return 0, false, nil
		}
		n, isNum := v.(json.Number)
		if !isNum {
			return 0, false, errors.New(name + " is not a number")
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, false, errors.New(name + " is not a finite number")
		}
		return f, true, nil
	}
	exp, hasExp, err := date("exp")
	if err != nil {
		return err
	}
	if !hasExp {
		return errors.New("exp missing")
	}
	if !(secs < exp+diffSkew) {
		return errors.New("expired")
	}
	nbf, hasNbf, err := date("nbf")
	if err != nil {
		return err
	}
	if hasNbf && secs+diffSkew < nbf {
		return errors.New("not yet valid")
	}
	iat, hasIat, err := date("iat")
	if err != nil {
		return err
	}
	if hasIat && iat > secs+diffSkew {
		return errors.New("issued in the future")
	}
	return nil
}

// stricter are the reasons for which the gate may refuse a token the oracle
// accepts: format rules it enforces and go-jose does not.
var stricter = map[string]bool{
	ErrTokenMalformed.Error():    true, // duplicate header members, whitespace, padding, non-canonical base64url
	ErrClaimsMalformed.Error():   true, // duplicate claims, malformed registered claims the oracle ignores
	ErrHeaderUnsupported.Error(): true, // any "crit" or "b64"
	ErrRequestMalformed.Error():  true, // control characters in the Authorization header
}

// loadOracleKeys parses the issuer's JWK Set with go-jose.
func loadOracleKeys(t testing.TB) *jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(fx(t).corp.JWKS(), &set); err != nil {
		t.Fatalf("go-jose cannot parse the issuer's JWK Set: %v", err)
	}
	if len(set.Keys) != len(fx(t).corp.Keys) {
		t.Fatalf("go-jose parsed %d keys, the issuer has %d", len(set.Keys), len(fx(t).corp.Keys))
	}
	return &set
}

// differentialToken signs header and payload with the issuer's key number
// key and, when with is not zero, replaces the byte at pos with it.
func differentialToken(t testing.TB, key uint8, header, payload string, pos uint16, with byte) (string, bool) {
	keys := fx(t).corp.Keys
	k := keys[int(key)%len(keys)]
	tok, err := k.SignRaw([]byte(header), []byte(payload))
	if err != nil {
		return "", false
	}
	if with != 0 && len(tok) > 0 {
		b := []byte(tok)
		b[int(pos)%len(b)] = with
		tok = string(b)
	}
	return tok, true
}

// differentialSeeds are the starting points: well-formed tokens for every
// key, and the classic edge cases of each rule.
func differentialSeeds() []struct {
	key             uint8
	header, payload string
	pos             uint16
	with            byte
} {
	exp := strconv.FormatInt(diffNow.Unix()+600, 10)
	good := `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"iat":` + strconv.FormatInt(diffNow.Unix(), 10) + `}`
	type seed = struct {
		key             uint8
		header, payload string
		pos             uint16
		with            byte
	}
	var out []seed
	for i, alg := range []string{"RS256", "ES256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES384", "ES512", "EdDSA"} {
		out = append(out,
			seed{uint8(i), `{"alg":"` + alg + `","kid":"` + alg + `-1"}`, good, 0, 0},
			seed{uint8(i), `{"alg":"` + alg + `"}`, good, 0, 0},
			seed{uint8(i), `{"alg":"` + alg + `","kid":"` + alg + `-1","typ":"at+jwt"}`, good, 40, 'A'},
		)
	}
	out = append(out,
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":["x","` + aud + `"],"exp":` + strconv.FormatInt(diffNow.Unix()-59, 10) + `}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + strconv.FormatInt(diffNow.Unix()-60, 10) + `}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"nbf":` + strconv.FormatInt(diffNow.Unix()+61, 10) + `}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"iat":` + strconv.FormatInt(diffNow.Unix()+60, 10) + `}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":"` + aud + `"}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":"` + exp + `"}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"iss":"https://evil"}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1","alg":"none"}`, good, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1","crit":["exp"],"exp":1}`, good, 0, 0},
		seed{0, `{"alg":"PS256","kid":"RS256-1"}`, good, 0, 0},
		seed{4, `{"alg":"RS256","kid":"PS256-1"}`, good, 0, 0},
		seed{0, `{"alg":"HS256","kid":"RS256-1"}`, good, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":1e999}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"https://other.example.com","aud":"` + aud + `","exp":` + exp + `}`, 0, 0},
		seed{0, ` {"alg":"RS256", "kid":"RS256-1"} `, " " + good + "\n", 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, good, 5, '\n'},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, good, 65535, 'A'},
		seed{1, `{"alg":"ES256","kid":"ES256-1"}`, good, 65534, '_'},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"i\u0073s":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `}`, 0, 0},
		seed{0, `{"alg":"RS256","kid":"RS256-1"}`, `{"iss":"` + corpURL + `","aud":"` + aud + `","exp":` + exp + `,"ISS":"x"}`, 0, 0},
	)
	return out
}

// FuzzDifferential compares the gate with the go-jose oracle.
func FuzzDifferential(f *testing.F) {
	for _, s := range differentialSeeds() {
		f.Add(s.key, s.header, s.payload, s.pos, s.with)
	}
	g := compile(f, diffConfig(f))
	keys := loadOracleKeys(f)
	f.Fuzz(func(t *testing.T, key uint8, header, payload string, pos uint16, with byte) {
		tok, ok := differentialToken(t, key, header, payload, pos, with)
		if !ok {
			return
		}
		checkDifferential(t, g, keys, tok)
	})
}

func checkDifferential(t *testing.T, g *Gate, keys *jose.JSONWebKeySet, tok string) {
	t.Helper()
	d := g.Decide(get("/", "authorization", "Bearer "+tok), diffNow)
	want := oracle(keys, tok, diffNow)
	switch {
	case d.Allow && want != nil:
		t.Fatalf("the gate accepted a token the oracle refuses (%v): %q", want, tok)
	case !d.Allow && want == nil && !stricter[d.Reason]:
		t.Fatalf("the gate refused a token the oracle accepts, with %q: %q", d.Reason, tok)
	case !d.Allow && (d.Status < 400 || d.Status > 499):
		t.Fatalf("a refusal with status %d (%s): %q", d.Status, d.Reason, tok)
	}
}

// TestDifferentialSeeds runs the seeds as a plain test, so that `go test`
// without -fuzz exercises the oracle, and checks that the seeds cover both
// outcomes.
func TestDifferentialSeeds(t *testing.T) {
	g := compile(t, diffConfig(t))
	keys := loadOracleKeys(t)
	accepted, refused := 0, 0
	for _, s := range differentialSeeds() {
		tok, ok := differentialToken(t, s.key, s.header, s.payload, s.pos, s.with)
		if !ok {
			t.Fatalf("cannot sign seed %+v", s)
		}
		checkDifferential(t, g, keys, tok)
		if oracle(keys, tok, diffNow) == nil {
			accepted++
		} else {
			refused++
		}
	}
	if accepted < 20 || refused < 10 {
		t.Fatalf("seeds: %d accepted and %d refused by the oracle; want both outcomes well covered", accepted, refused)
	}
}

// FuzzJWKDifferential compares the JWK parser with go-jose's on one key: a
// key jwk.Parse keeps must be one go-jose reads as the same public key. (The
// reverse is allowed: jwk refuses more, e.g. "use":"enc", small RSA, a
// mismatched "alg".) Keys given only by "x5c" are skipped, since go-jose
// wants "n" and "e" beside it.
func FuzzJWKDifferential(f *testing.F) {
	for _, k := range fx(f).corp.Keys {
		b, err := json.Marshal(k.JWK())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(`{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`)
	f.Add(`{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}`)
	f.Add(`{"kty":"RSA","n":"AQAB","e":"AQAB","n":"AQAB"}`)
	f.Fuzz(func(t *testing.T, key string) {
		set, _, err := jwk.Parse([]byte(`{"keys":[` + key + `]}`))
		if err != nil || len(set.Keys) != 1 {
			return
		}
		var members map[string]json.RawMessage
		if json.Unmarshal([]byte(key), &members) != nil {
			t.Fatalf("jwk kept a key that encoding/json cannot read: %q", key)
		}
		if _, ok := members["x5c"]; ok {
			return
		}
		var jk jose.JSONWebKey
		if err := json.Unmarshal([]byte(key), &jk); err != nil {
			// go-jose decodes every member it knows whatever the key type
			// (a "y" on an OKP key, say), where RFC 7517 §4 says to ignore
			// members that do not apply. Judge it on the members that do.
			if err := json.Unmarshal(relevantMembers(set.Keys[0].Kty, members), &jk); err != nil {
				t.Fatalf("jwk kept a key go-jose refuses (%v): %q", err, key)
			}
		}
		same := false
		switch pub := set.Keys[0].Public.(type) {
		case *rsa.PublicKey:
			o, ok := jk.Key.(*rsa.PublicKey)
			same = ok && pub.Equal(o)
		case *ecdsa.PublicKey:
			o, ok := jk.Key.(*ecdsa.PublicKey)
			same = ok && pub.Equal(o)
		case ed25519.PublicKey:
			o, ok := jk.Key.(ed25519.PublicKey)
			same = ok && pub.Equal(o)
		}
		if !same || set.Keys[0].Kid != jk.KeyID {
			t.Fatalf("jwk and go-jose read different keys from %q: %T kid %q vs %T kid %q", key, set.Keys[0].Public, set.Keys[0].Kid, jk.Key, jk.KeyID)
		}
	})
}

// relevantMembers keeps the members of a JWK that apply to its key type.
func relevantMembers(kty string, members map[string]json.RawMessage) []byte {
	keep := map[string][]string{"RSA": {"n", "e"}, "EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}}[kty]
	out := map[string]json.RawMessage{}
	for _, name := range append([]string{"kty", "kid", "alg", "use", "key_ops"}, keep...) {
		if v, ok := members[name]; ok {
			out[name] = v
		}
	}
	b, _ := json.Marshal(out)
	return b
}
