package e2e

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokengate/tokengate/internal/issuer"
)

// The corpus of the jwt_authn differential: a generated matrix (every
// algorithm tokengate accepts × every claim, header and encoding case), the
// single-token cases that do not depend on the algorithm, the hostile shapes
// of e2e/hostile_test.go that a client can send, and the seed corpora of the
// gate's fuzz targets (FuzzDifferential re-signed with this issuer's keys,
// FuzzDecide sent as they are).

var b64 = base64.RawURLEncoding.EncodeToString

// member is one JSON object member, its value as JSON text.
type member struct{ name, value string }

// claimsJSON returns the claims of a good token at now, with over applied in
// order: a member with the name of a base member replaces it (an empty value
// deletes it), any other is appended.
func claimsJSON(now time.Time, over ...member) string {
	ms := []member{{"iss", strconv.Quote(diffIssuer)}, {"aud", strconv.Quote(diffAudience)}, {"sub", `"alice"`},
		{"iat", unix(now)}, {"exp", unix(now.Add(10 * time.Minute))}}
	for _, o := range over {
		replaced := false
		for i := range ms {
			if ms[i].name == o.name {
				ms[i].value, replaced = o.value, true
			}
		}
		if !replaced {
			ms = append(ms, o)
		}
	}
	return object(ms)
}

func object(ms []member) string {
	var b strings.Builder
	b.WriteByte('{')
	for _, m := range ms {
		if m.value == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(m.name) + ":" + m.value)
	}
	b.WriteByte('}')
	return b.String()
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// headerJSON returns {"alg":…,"kid":…} for k followed by extra members.
func headerJSON(k *issuer.Key, extra ...member) string {
	return object(append([]member{{"alg", strconv.Quote(string(k.Alg))}, {"kid", strconv.Quote(k.Kid)}}, extra...))
}

// signSegments signs the two encoded segments exactly as given (padding,
// alphabet and all) with k.
func signSegments(t *testing.T, k *issuer.Key, header, payload string) string {
	t.Helper()
	input := header + "." + payload
	sig, err := jwt.GetSigningMethod(string(k.Alg)).Sign(input, k.Private)
	if err != nil {
		t.Fatalf("signing with %s: %v", k.Kid, err)
	}
	return input + "." + b64(sig)
}

func signRawOrFail(t *testing.T, k *issuer.Key, header, payload string) string {
	t.Helper()
	tok, err := k.SignRaw([]byte(header), []byte(payload))
	if err != nil {
		t.Fatalf("signing with %s: %v", k.Kid, err)
	}
	return tok
}

// flipSignature changes one character in the middle of the signature.
func flipSignature(tok string) string {
	i := strings.LastIndexByte(tok, '.') + (len(tok)-strings.LastIndexByte(tok, '.'))/2
	c := byte('A')
	if tok[i] == 'A' {
		c = 'B'
	}
	return tok[:i] + string(c) + tok[i+1:]
}

// paddedJSON appends a member that makes the JSON's length leave a remainder
// of 1 modulo 3, so that its base64 encoding ends in "==".
func paddedJSON(obj string) string {
	for n := 0; ; n++ {
		s := obj[:len(obj)-1] + `,"p":"` + strings.Repeat("x", n) + `"}`
		if len(s)%3 == 1 {
			return s
		}
	}
}

// nestedJSON is an array nested depth levels deep.
func nestedJSON(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// diffCorpus returns every token of the differential. iss signs the genuine
// tokens; forger has keys of the same kids that nobody published.
func diffCorpus(t *testing.T, iss, forger *issuer.Issuer) []diffToken {
	t.Helper()
	now := time.Now()
	var out []diffToken
	add := func(kind, name, authorization string) {
		out = append(out, diffToken{kind: kind, name: name, authorization: authorization})
	}
	bearer := func(tok string) string { return "Bearer " + tok }

	var many strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&many, `,"c%d":%d`, i, i)
	}
	for i, k := range iss.Keys {
		alg := string(k.Alg)
		forged := forger.Keys[i]
		hdr := headerJSON(k)
		good := claimsJSON(now)
		matrix := []struct {
			kind  string
			token string
		}{
			{"valid", signRawOrFail(t, k, hdr, good)},
			{"expired", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", unix(now.Add(-time.Hour))}))},
			{"expired within the clock skew", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", unix(now.Add(-20 * time.Second))}))},
			{"nbf in the future", signRawOrFail(t, k, hdr, claimsJSON(now, member{"nbf", unix(now.Add(time.Hour))}))},
			{"nbf within the clock skew", signRawOrFail(t, k, hdr, claimsJSON(now, member{"nbf", unix(now.Add(20 * time.Second))}))},
			{"nbf in the past", signRawOrFail(t, k, hdr, claimsJSON(now, member{"nbf", unix(now.Add(-time.Hour))}))},
			{"iat in the future", signRawOrFail(t, k, hdr, claimsJSON(now, member{"iat", unix(now.Add(time.Hour))}))},
			{"missing exp", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", ""}))},
			{"exp as a string", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", strconv.Quote(unix(now.Add(time.Hour)))}))},
			{"exp with a fraction", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", unix(now.Add(time.Hour)) + ".5"}))},
			{"exp in exponent notation", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", "4e9"}))},
			{"exp 1e999", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", "1e999"}))},
			{"exp of 20 digits", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", "99999999999999999999"}))},
			{"exp negative", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", "-1"}))},
			{"exp true", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", "true"}))},
			{"exp null", signRawOrFail(t, k, hdr, claimsJSON(now, member{"exp", "null"}))},
			{"nbf as a string", signRawOrFail(t, k, hdr, claimsJSON(now, member{"nbf", strconv.Quote(unix(now.Add(time.Hour)))}))},
			{"wrong iss", signRawOrFail(t, k, hdr, claimsJSON(now, member{"iss", `"https://idp.example.com/realms/other"`}))},
			{"iss with a trailing slash", signRawOrFail(t, k, hdr, claimsJSON(now, member{"iss", strconv.Quote(diffIssuer + "/")}))},
			{"iss not a string", signRawOrFail(t, k, hdr, claimsJSON(now, member{"iss", "5"}))},
			{"missing iss", signRawOrFail(t, k, hdr, claimsJSON(now, member{"iss", ""}))},
			{"wrong aud", signRawOrFail(t, k, hdr, claimsJSON(now, member{"aud", `"api://other"`}))},
			{"aud array with the audience", signRawOrFail(t, k, hdr, claimsJSON(now, member{"aud", `["api://other","` + diffAudience + `"]`}))},
			{"aud array without the audience", signRawOrFail(t, k, hdr, claimsJSON(now, member{"aud", `["api://other","api://third"]`}))},
			{"aud an empty array", signRawOrFail(t, k, hdr, claimsJSON(now, member{"aud", `[]`}))},
			{"aud a number", signRawOrFail(t, k, hdr, claimsJSON(now, member{"aud", `5`}))},
			{"missing aud", signRawOrFail(t, k, hdr, claimsJSON(now, member{"aud", ""}))},
			{"bad signature", flipSignature(signRawOrFail(t, k, hdr, good))},
			{"signed by an unpublished key with a published kid", signRawOrFail(t, forged, hdr, good)},
			{"unknown kid", signRawOrFail(t, k, headerJSON(k, member{"kid", `"unknown-1"`}), good)},
			{"no kid", signRawOrFail(t, k, object([]member{{"alg", strconv.Quote(alg)}}), good)},
			{"no kid, signed by an unpublished key", signRawOrFail(t, forged, object([]member{{"alg", strconv.Quote(alg)}}), good)},
			{"kid a number", signRawOrFail(t, k, object([]member{{"alg", strconv.Quote(alg)}, {"kid", "5"}}), good)},
			{"alg in lower case", signRawOrFail(t, k, object([]member{{"alg", strconv.Quote(strings.ToLower(alg))}, {"kid", strconv.Quote(k.Kid)}}), good)},
			{"typ JWT", signRawOrFail(t, k, headerJSON(k, member{"typ", `"JWT"`}), good)},
			{"typ at+jwt", signRawOrFail(t, k, headerJSON(k, member{"typ", `"at+jwt"`}), good)},
			{"typ application/at+jwt", signRawOrFail(t, k, headerJSON(k, member{"typ", `"application/at+jwt"`}), good)},
			{"typ of another kind", signRawOrFail(t, k, headerJSON(k, member{"typ", `"dpop+jwt"`}), good)},
			{"typ a number", signRawOrFail(t, k, headerJSON(k, member{"typ", `5`}), good)},
			{"crit with an unknown extension", signRawOrFail(t, k, headerJSON(k, member{"crit", `["x-ext"]`}, member{"x-ext", "true"}), good)},
			{"crit empty", signRawOrFail(t, k, headerJSON(k, member{"crit", `[]`}), good)},
			{"crit naming b64, b64 true", signRawOrFail(t, k, headerJSON(k, member{"crit", `["b64"]`}, member{"b64", "true"}), good)},
			{"b64 false with crit", signRawOrFail(t, k, headerJSON(k, member{"b64", "false"}, member{"crit", `["b64"]`}), good)},
			{"b64 false without crit", signRawOrFail(t, k, headerJSON(k, member{"b64", "false"}), good)},
			{"jku and x5u in the header", signRawOrFail(t, k, headerJSON(k, member{"jku", `"https://evil.test/jwks"`}, member{"x5u", `"https://evil.test/cert"`}), good)},
			{"a forged key embedded as jwk, no kid", signRawOrFail(t, forged, object([]member{{"alg", strconv.Quote(alg)}, {"jwk", mustJSON(t, forged.JWK())}}), good)},
			{"duplicate claim, the foreign value last", signRawOrFail(t, k, hdr, good[:len(good)-1]+`,"iss":"https://evil.test"}`)},
			{"duplicate claim, the foreign value first", signRawOrFail(t, k, hdr, `{"iss":"https://evil.test",`+good[1:])},
			{"duplicate claim, the same value twice", signRawOrFail(t, k, hdr, good[:len(good)-1]+`,"iss":`+strconv.Quote(diffIssuer)+`}`)},
			{"duplicate header member, the unknown kid last", signRawOrFail(t, k, hdr[:len(hdr)-1]+`,"kid":"unknown-1"}`, good)},
			{"duplicate header member, the unknown kid first", signRawOrFail(t, k, `{"kid":"unknown-1",`+hdr[1:], good)},
			{"duplicate member in a nested claim", signRawOrFail(t, k, hdr, claimsJSON(now, member{"realm_access", `{"roles":["admin"],"roles":["user"]}`}))},
			{"duplicate member in a nested header member", signRawOrFail(t, k, headerJSON(k, member{"x", `{"a":1,"a":2}`}), good)},
			{"whitespace around the JSON", signRawOrFail(t, k, " "+hdr+"\n", "\t"+good+" ")},
			{"claims nested 40 levels deep", signRawOrFail(t, k, hdr, claimsJSON(now, member{"x", nestedJSON(40)}))},
			{"a genuine token over 16 KiB (1,500 claims)", signRawOrFail(t, k, hdr, good[:len(good)-1]+many.String()+"}")},
			{"an 8 KiB claim", signRawOrFail(t, k, hdr, claimsJSON(now, member{"pad", strconv.Quote(strings.Repeat("x", 8<<10))}))},
			{"a claim that is not UTF-8", signRawOrFail(t, k, hdr, claimsJSON(now, member{"sub", "\"\xff\xfe\""}))},
			{"a header member that is not UTF-8", signRawOrFail(t, k, headerJSON(k, member{"x", "\"\xff\xfe\""}), good)},
			{"a claim with an escaped lone surrogate", signRawOrFail(t, k, hdr, claimsJSON(now, member{"sub", `"\ud800"`}))},
			{"claims not an object", signRawOrFail(t, k, hdr, `["`+diffIssuer+`"]`)},
			{"claims not JSON", signRawOrFail(t, k, hdr, `iss=`+diffIssuer)},
			{"trailing data after the claims", signRawOrFail(t, k, hdr, good+`{}`)},
			{"padded base64", signSegments(t, k, base64.URLEncoding.EncodeToString([]byte(paddedJSON(hdr))), base64.URLEncoding.EncodeToString([]byte(paddedJSON(good))))},
			{"a signature in the standard base64 alphabet", stdAlphabetSignature(t, k, hdr, now)},
			{"a trailing dot", signRawOrFail(t, k, hdr, good) + "."},
			{"a leading dot", "." + signRawOrFail(t, k, hdr, good)},
			{"four segments", signRawOrFail(t, k, hdr, good) + ".AAAA"},
			{"a dot doubled between header and claims", strings.Replace(signRawOrFail(t, k, hdr, good), ".", "..", 1)},
			{"an empty signature", withoutSignature(signRawOrFail(t, k, hdr, good))},
		}
		for _, m := range matrix {
			add(m.kind, alg+": "+m.kind, bearer(m.token))
		}
	}

	rs := iss.Key("RS256-1")
	es := iss.Key("ES256-1")
	good := claimsJSON(now)
	valid := signRawOrFail(t, rs, headerJSON(rs), good)
	none := b64([]byte(`{"alg":"none"}`)) + "." + b64([]byte(good)) + "."
	for _, s := range []struct{ kind, name, authorization string }{
		{"alg none", "alg none, no signature", bearer(none)},
		{"alg none", "alg none with a kid", bearer(b64([]byte(`{"alg":"none","kid":"RS256-1"}`)) + "." + b64([]byte(good)) + ".")},
		{"alg none", "alg none with a signature", bearer(none + valid[strings.LastIndexByte(valid, '.')+1:])},
		{"alg none", "alg None", bearer(b64([]byte(`{"alg":"None"}`)) + "." + b64([]byte(good)) + ".")},
		{"HS256 keyed with the public key", "HS256 keyed with the RSA key's PEM", bearer(hs256(t, `{"alg":"HS256","kid":"RS256-1"}`, good, publicPEM(t, rs)))},
		{"HS256 keyed with the public key", "HS256 keyed with the RSA key's PEM, no kid", bearer(hs256(t, `{"alg":"HS256"}`, good, publicPEM(t, rs)))},
		{"HS256 keyed with the public key", "HS256 keyed with the EC key's PEM", bearer(hs256(t, `{"alg":"HS256","kid":"ES256-1"}`, good, publicPEM(t, es)))},
		{"HS256 keyed with the public key", "HS256 keyed with the JWK Set", bearer(hs256(t, `{"alg":"HS256"}`, good, iss.JWKS()))},
		{"the key of another algorithm", "RS256 header, PS256 key and kid", bearer(signRawOrFail(t, rsaAs(t, iss.Key("PS256-1"), issuer.RS256), `{"alg":"RS256","kid":"PS256-1"}`, good))},
		{"the key of another algorithm", "PS256 header, RS256 key and kid", bearer(signRawOrFail(t, rsaAs(t, rs, issuer.PS256), `{"alg":"PS256","kid":"RS256-1"}`, good))},
		{"the key of another algorithm", "ES384 header, ES256 kid", bearer(signRawOrFail(t, iss.Key("ES384-1"), `{"alg":"ES384","kid":"ES256-1"}`, good))},
		{"a JWE", "a JWE with five segments", bearer(b64([]byte(`{"alg":"RSA-OAEP","enc":"A256GCM","kid":"RS256-1"}`)) + ".AAAA.AAAA.AAAA.AAAA")},
		{"no Authorization header", "no Authorization header", ""},
		{"another scheme", "Basic credentials", "Basic dXNlcjpwYXNz"},
		{"another scheme", "the token without a scheme", valid},
		{"the scheme in lower case", "bearer in lower case", "bearer " + valid},
		{"the scheme in upper case", "BEARER in upper case", "BEARER " + valid},
		{"two spaces after the scheme", "Bearer followed by two spaces", "Bearer  " + valid},
		{"the scheme alone", "Bearer and nothing", "Bearer "},
		{"not a JWT", "three dots of garbage", bearer("a.b.c")},
		{"not a JWT", "an opaque token", bearer("2YotnFZFEjr1zCsicMWpAA")},
		{"invalid UTF-8 in the Authorization header", "invalid UTF-8 in the Authorization header", bearer("\xff\xfe\xfd." + valid[4:])},
		{"a genuine token of 8 KiB", "a genuine token of 8 KiB", bearer(signRawOrFail(t, rs, headerJSON(rs), claimsJSON(now, member{"pad", strconv.Quote(strings.Repeat("x", 8<<10))})))},
		{"a forged token of 8 KiB", "a forged token of 8 KiB", bearer(signRawOrFail(t, forger.Keys[0], headerJSON(rs), claimsJSON(now, member{"pad", strconv.Quote(strings.Repeat("x", 8<<10))})))},
		{"a 64 KiB token", "a 64 KiB token", bearer(strings.Repeat("A", 64<<10))},
		{"a forged token nested 5,000 levels deep", "a forged header nested 5,000 levels deep", bearer(signRawOrFail(t, forger.Keys[0], headerJSON(rs, member{"x", nestedJSON(5000)}), good))},
		{"a forged token nested 5,000 levels deep", "forged claims nested 5,000 levels deep", bearer(signRawOrFail(t, forger.Keys[0], headerJSON(rs), claimsJSON(now, member{"x", nestedJSON(5000)})))},
	} {
		add(s.kind, s.name, s.authorization)
	}
	out = append(out, diffToken{kind: "a token in the access_token query parameter", name: "a token in the access_token query parameter", query: valid})

	out = append(out, differentialSeeds(t, iss, now)...)
	out = append(out, decideSeeds(t)...)
	return out
}

// withoutSignature keeps a token's header and claims and its last dot.
func withoutSignature(tok string) string { return tok[:strings.LastIndexByte(tok, '.')+1] }

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stdAlphabetSignature signs a good token and writes its signature in the
// standard base64 alphabet, re-signing with a later iat until the signature
// has a '+' or '/' (PKCS#1 v1.5 signatures are deterministic).
func stdAlphabetSignature(t *testing.T, k *issuer.Key, header string, now time.Time) string {
	t.Helper()
	for i := range 64 {
		tok := signRawOrFail(t, k, header, claimsJSON(now, member{"iat", unix(now.Add(-time.Duration(i) * time.Second))}))
		dot := strings.LastIndexByte(tok, '.')
		sig := strings.NewReplacer("-", "+", "_", "/").Replace(tok[dot+1:])
		if sig != tok[dot+1:] {
			return tok[:dot+1] + sig
		}
	}
	t.Fatalf("%s: 64 signatures without a '-' or '_'", k.Kid)
	return ""
}

// hs256 is the classic key-confusion forgery: an HMAC whose secret is the
// verifier's public key.
func hs256(t *testing.T, header, payload string, secret []byte) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

func publicPEM(t *testing.T, k *issuer.Key) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Private.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// rsaAs is k's private key used with another RSA algorithm.
func rsaAs(t *testing.T, k *issuer.Key, alg issuer.Algorithm) *issuer.Key {
	t.Helper()
	if k == nil {
		t.Fatal("no such key")
	}
	return &issuer.Key{Kid: k.Kid, Alg: alg, Private: k.Private}
}

// fuzzSeeds reads the seed files of one fuzz target of the gate: each value
// line of Go's fuzz corpus format, unquoted.
func fuzzSeeds(t *testing.T, target string) map[string][]string {
	t.Helper()
	dir := filepath.Join("..", "plugin", "internal", "gate", "testdata", "fuzz", target)
	files, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading the %s seeds: %v", target, err)
	}
	value := regexp.MustCompile(`^(string|uint8|uint16|byte)\((.*)\)$`)
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var vals []string
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "go test fuzz") {
				continue
			}
			m := value.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("%s/%s: unreadable line %q", target, f.Name(), line)
			}
			v := m[2]
			if m[1] == "string" {
				if v, err = strconv.Unquote(v); err != nil {
					t.Fatalf("%s/%s: %v", target, f.Name(), err)
				}
			}
			vals = append(vals, v)
		}
		out[f.Name()] = vals
	}
	return out
}

// fuzzTime is the fixed clock of the gate's differential fuzz target; its
// seeds' times are moved by now-fuzzTime so that they mean the same here.
const fuzzTime = 1_800_000_000

// differentialSeeds are the seeds of gate.FuzzDifferential (key index,
// header, payload, corruption position and byte), signed with iss's keys.
func differentialSeeds(t *testing.T, iss *issuer.Issuer, now time.Time) []diffToken {
	t.Helper()
	seeds := fuzzSeeds(t, "FuzzDifferential")
	times := regexp.MustCompile(`\b1[78]\d{8}\b`)
	var out []diffToken
	for _, name := range sortedKeys(seeds) {
		v := seeds[name]
		if len(v) != 5 {
			t.Fatalf("FuzzDifferential/%s: %d values, want 5", name, len(v))
		}
		key, err1 := strconv.Atoi(v[0])
		pos, err2 := strconv.Atoi(v[3])
		with, err3 := strconv.Atoi(v[4])
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("FuzzDifferential/%s: unreadable numbers %q", name, v)
		}
		payload := times.ReplaceAllStringFunc(v[2], func(s string) string {
			n, _ := strconv.ParseInt(s, 10, 64)
			return strconv.FormatInt(n-fuzzTime+now.Unix(), 10)
		})
		tok := signRawOrFail(t, iss.Keys[key%len(iss.Keys)], v[1], payload)
		if with != 0 {
			b := []byte(tok)
			b[pos%len(b)] = byte(with)
			tok = string(b)
		}
		out = append(out, diffToken{kind: "seed FuzzDifferential/" + name, name: "FuzzDifferential/" + name, authorization: "Bearer " + tok})
	}
	return out
}

// decideSeeds are the Authorization values of gate.FuzzDecide's seeds that a
// client can send (no control characters). They are signed with keys this
// issuer never published, so they are forgeries here.
func decideSeeds(t *testing.T) []diffToken {
	t.Helper()
	seeds := fuzzSeeds(t, "FuzzDecide")
	var out []diffToken
	for _, name := range sortedKeys(seeds) {
		v := seeds[name]
		if len(v) != 2 {
			t.Fatalf("FuzzDecide/%s: %d values, want 2", name, len(v))
		}
		if !sendable(v[1]) {
			continue
		}
		out = append(out, diffToken{kind: "seed FuzzDecide/" + name, name: "FuzzDecide/" + name, authorization: v[1]})
	}
	return out
}

// sendable reports whether net/http sends v as a header value: no control
// characters other than a tab.
func sendable(v string) bool {
	for i := 0; i < len(v); i++ {
		if (v[i] < ' ' && v[i] != '\t') || v[i] == 0x7f {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
