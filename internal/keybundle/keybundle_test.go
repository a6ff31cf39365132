package keybundle

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// Keys from fixed seeds, so that failures are reproducible.
var (
	signer      = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	otherSigner = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	pinned      = NewPublicKey(signer.Public().(ed25519.PublicKey))
	otherPinned = NewPublicKey(otherSigner.Public().(ed25519.PublicKey))
)

// okpSet is a key set with one usable Ed25519 key.
const okpSet = `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`

var t0 = time.Unix(1_767_225_600, 0) // 2026-01-01T00:00:00Z

func sign(t testing.TB, b Bundle, key ed25519.PrivateKey) []byte {
	t.Helper()
	out, err := Sign(b, key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func oneProvider(version uint64, at time.Time) Bundle {
	return Bundle{Version: version, IssuedAt: at, Providers: []Provider{{Name: "corp", Issuer: "https://idp.example.com", JWKS: []byte(okpSet)}}}
}

// signRaw signs payload bytes as they are, so that payloads Sign would
// never write can be tested behind a valid signature.
func signRaw(payload []byte, key ed25519.PrivateKey) []byte {
	env, _ := json.Marshal(map[string]string{
		"key_id":    keyID(key.Public().(ed25519.PublicKey)),
		"payload":   base64.RawURLEncoding.EncodeToString(payload),
		"signature": base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, signedMessage(payload))),
	})
	return env
}

// envelopeOf returns the envelope's members, to be changed by a test.
func envelopeOf(t testing.TB, data []byte) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func marshal(m map[string]string) []byte { b, _ := json.Marshal(m); return b }

func TestVerify(t *testing.T) {
	t.Parallel()
	const maxStale = time.Hour
	good := sign(t, oneProvider(5, t0), signer)
	tests := []struct {
		name string
		data []byte
		held uint64
		now  time.Time
		want error // nil: accepted
	}{
		{name: "a bundle newer than the one held is accepted", data: good, held: 4, now: t0},
		{name: "a first bundle is accepted", data: good, now: t0.Add(10 * time.Second)},
		{name: "the bundle held is nothing to do", data: good, held: 5, now: t0, want: ErrUnchanged},
		{name: "an older bundle is a replay", data: good, held: 6, now: t0, want: ErrReplay},
		{name: "exactly max_stale old is still accepted", data: good, now: t0.Add(maxStale)},
		{name: "older than max_stale is stale", data: good, now: t0.Add(maxStale + time.Second), want: ErrStale},
		{name: "a replay that is also stale is reported as a replay", data: good, held: 9, now: t0.Add(2 * maxStale), want: ErrReplay},
		{name: "issued within the clock skew ahead is accepted", data: good, now: t0.Add(-MaxFutureSkew)},
		{name: "issued further ahead is refused", data: good, now: t0.Add(-MaxFutureSkew - time.Second), want: ErrFuture},
		{name: "signed by the second pinned key", data: sign(t, oneProvider(5, t0), otherSigner), now: t0},
		{name: "signed by a key that is not pinned", now: t0, want: ErrSignature,
			data: sign(t, oneProvider(5, t0), ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32)))},
		{name: "a payload changed after signing", now: t0, want: ErrSignature, data: func() []byte {
			m := envelopeOf(t, good)
			p, _ := base64.RawURLEncoding.DecodeString(m["payload"])
			p = bytes.Replace(p, []byte(`"version":5`), []byte(`"version":9`), 1)
			m["payload"] = base64.RawURLEncoding.EncodeToString(p)
			return marshal(m)
		}()},
		{name: "a flipped signature bit", now: t0, want: ErrSignature, data: func() []byte {
			m := envelopeOf(t, good)
			s, _ := base64.RawURLEncoding.DecodeString(m["signature"])
			s[10] ^= 1
			m["signature"] = base64.RawURLEncoding.EncodeToString(s)
			return marshal(m)
		}()},
		{name: "the key_id of the other pinned key", now: t0, want: ErrSignature, data: func() []byte {
			m := envelopeOf(t, good)
			m["key_id"] = otherPinned.ID()
			return marshal(m)
		}()},
		{name: "the signature of another payload", now: t0, want: ErrSignature, data: func() []byte {
			m, o := envelopeOf(t, good), envelopeOf(t, sign(t, oneProvider(6, t0), signer))
			m["signature"] = o["signature"]
			return marshal(m)
		}()},
		{name: "empty", want: ErrMalformed},
		{name: "not JSON", data: []byte("key bundle"), want: ErrMalformed},
		{name: "an array", data: []byte(`["a","b","c"]`), want: ErrMalformed},
		{name: "an unknown member", want: ErrMalformed, data: func() []byte {
			m := envelopeOf(t, good)
			m["alg"] = "none"
			return marshal(m)
		}()},
		{name: "no signature", want: ErrMalformed, data: func() []byte {
			m := envelopeOf(t, good)
			delete(m, "signature")
			return marshal(m)
		}()},
		{name: "a member given twice", want: ErrMalformed,
			data: []byte(strings.Replace(string(good), `{"key_id"`, `{"payload":"e30","key_id"`, 1))},
		{name: "a member that is not a string", want: ErrMalformed,
			data: []byte(`{"key_id":1,"payload":"e30","signature":"e30"}`)},
		{name: "padded base64url", want: ErrMalformed, data: func() []byte {
			m := envelopeOf(t, good)
			m["signature"] += "=="
			return marshal(m)
		}()},
		{name: "a short signature", want: ErrMalformed, data: func() []byte {
			m := envelopeOf(t, good)
			m["signature"] = m["signature"][:40]
			return marshal(m)
		}()},
		{name: "too large", data: append([]byte(`{"x":"`), append(bytes.Repeat([]byte("a"), MaxBytes), `"}`...)...), want: ErrMalformed},
		{name: "a signed payload that is not JSON", data: signRaw([]byte("version 5"), signer), want: ErrMalformed},
		{name: "a signed version with a fraction", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5.0,"issued_at":1767225600,"providers":{}}`), signer)},
		{name: "a signed version with an exponent", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5e3,"issued_at":1767225600,"providers":{}}`), signer)},
		{name: "a signed negative version", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":-5,"issued_at":1767225600,"providers":{}}`), signer)},
		{name: "a signed version with a leading zero", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":05,"issued_at":1767225600,"providers":{}}`), signer)},
		{name: "a signed version beyond 64 bits", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":18446744073709551616,"issued_at":1767225600,"providers":{}}`), signer)},
		{name: "a signed version 0", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":0,"issued_at":1767225600,"providers":{}}`), signer)},
		{name: "a signed issued_at as a string", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5,"issued_at":"1767225600","providers":{}}`), signer)},
		{name: "a signed payload without providers", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5,"issued_at":1767225600}`), signer)},
		{name: "a signed payload with an unknown member", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5,"issued_at":1767225600,"providers":{},"ttl":9}`), signer)},
		{name: "a signed provider without an issuer", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5,"issued_at":1767225600,"providers":{"corp":{"jwks":`+okpSet+`}}}`), signer)},
		{name: "a signed provider whose jwks is a string", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5,"issued_at":1767225600,"providers":{"corp":{"issuer":"i","jwks":"{}"}}}`), signer)},
		{name: "a signed provider whose jwks is not a key set", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5,"issued_at":1767225600,"providers":{"corp":{"issuer":"i","jwks":{"key":[]}}}}`), signer)},
		{name: "signed providers out of order", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5,"issued_at":1767225600,"providers":{"b":{"issuer":"i","jwks":{"keys":[]}},"a":{"issuer":"i","jwks":{"keys":[]}}}}`), signer)},
		{name: "a signed provider given twice", now: t0, want: ErrMalformed,
			data: signRaw([]byte(`{"version":5,"issued_at":1767225600,"providers":{"a":{"issuer":"i","jwks":{"keys":[]}},"a":{"issuer":"j","jwks":{"keys":[]}}}}`), signer)},
		{name: "a signed payload by hand, in another member order, is accepted", now: t0,
			data: signRaw([]byte(`{ "providers": {"corp": {"jwks": `+okpSet+`, "issuer": "i"}}, "issued_at": 1767225600, "version": 5 }`), signer)},
	}
	v, err := NewVerifier(maxStale, pinned, otherPinned)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := v.Verify(tt.data, tt.held, tt.now)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if b.Version != 5 || !b.IssuedAt.Equal(t0) || len(b.Providers) != 1 || b.Providers[0].Keys == nil || len(b.Providers[0].Keys.Keys) != 1 {
					t.Fatalf("bundle %+v", b)
				}
				return
			}
			if !errors.Is(err, tt.want) || b != nil {
				t.Fatalf("Verify = %v, %v; want %v", b, err, tt.want)
			}
			if Reason(err) == "" {
				t.Errorf("Reason(%v) is empty", err)
			}
		})
	}
}

func TestVerifyKeepsWarningsAboutSkippedKeys(t *testing.T) {
	t.Parallel()
	set := `{"keys":[{"kty":"oct","kid":"hmac","k":"c2VjcmV0"},` + okpSet[len(`{"keys":[`):]
	data := sign(t, Bundle{Version: 1, IssuedAt: t0, Providers: []Provider{{Name: "corp", Issuer: "i", JWKS: []byte(set)}}}, signer)
	v, _ := NewVerifier(time.Hour, pinned)
	b, err := v.Verify(data, 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	p := b.Provider("corp")
	if p == nil || len(p.Keys.Keys) != 1 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], `"hmac"`) {
		t.Fatalf("provider %+v", p)
	}
	if b.Provider("other") != nil {
		t.Fatal("Provider found a provider the bundle does not have")
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	spaced := "{ \"keys\" : [\n  " + okpSet[len(`{"keys":[`):len(okpSet)-2] + " ] }"
	tests := []struct {
		name    string
		bundle  Bundle
		payload string // want; "" when Sign must refuse
	}{
		{name: "providers are sorted and key sets written compact",
			bundle: Bundle{Version: 7, IssuedAt: t0.Add(1500 * time.Millisecond), Providers: []Provider{
				{Name: "zeta", Issuer: "https://z", JWKS: []byte(`{"keys":[]}`)},
				{Name: "alpha", Issuer: "https://a", JWKS: []byte(spaced)}}},
			payload: `{"version":7,"issued_at":1767225601,"providers":{"alpha":{"issuer":"https://a","jwks":` + okpSet + `},"zeta":{"issuer":"https://z","jwks":{"keys":[]}}}}`},
		{name: "names and issuers are escaped",
			bundle:  Bundle{Version: 1, IssuedAt: t0, Providers: []Provider{{Name: "a\"b\\c\x01é", Issuer: "i\n", JWKS: []byte(`{"keys":[]}`)}}},
			payload: `{"version":1,"issued_at":1767225600,"providers":{"a\"b\\c\u0001é":{"issuer":"i\u000a","jwks":{"keys":[]}}}}`},
		{name: "no providers",
			bundle:  Bundle{Version: 1, IssuedAt: t0},
			payload: `{"version":1,"issued_at":1767225600,"providers":{}}`},
		{name: "version 0 is refused", bundle: Bundle{IssuedAt: t0}},
		{name: "no issue time is refused", bundle: Bundle{Version: 1}},
		{name: "a provider given twice is refused", bundle: Bundle{Version: 1, IssuedAt: t0, Providers: []Provider{
			{Name: "a", Issuer: "i", JWKS: []byte(`{"keys":[]}`)}, {Name: "a", Issuer: "i", JWKS: []byte(`{"keys":[]}`)}}}},
		{name: "an empty name is refused", bundle: Bundle{Version: 1, IssuedAt: t0, Providers: []Provider{{Issuer: "i", JWKS: []byte(`{"keys":[]}`)}}}},
		{name: "an empty issuer is refused", bundle: Bundle{Version: 1, IssuedAt: t0, Providers: []Provider{{Name: "a", JWKS: []byte(`{"keys":[]}`)}}}},
		{name: "a key set with a duplicate member is refused", bundle: Bundle{Version: 1, IssuedAt: t0, Providers: []Provider{
			{Name: "a", Issuer: "i", JWKS: []byte(`{"keys":[],"keys":[]}`)}}}},
		{name: "a key set that is an array is refused", bundle: Bundle{Version: 1, IssuedAt: t0, Providers: []Provider{
			{Name: "a", Issuer: "i", JWKS: []byte(`[]`)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, err := Sign(tt.bundle, signer)
			if tt.payload == "" {
				if err == nil {
					t.Fatalf("Sign accepted it: %s", data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := envelopeOf(t, data)
			p, _ := base64.RawURLEncoding.DecodeString(m["payload"])
			if string(p) != tt.payload {
				t.Fatalf("payload\n got %s\nwant %s", p, tt.payload)
			}
			if m["key_id"] != pinned.ID() {
				t.Errorf("key_id %q, want %q", m["key_id"], pinned.ID())
			}
			again, _ := Sign(tt.bundle, signer)
			if !bytes.Equal(again, data) {
				t.Error("signing the same bundle twice gave different bytes")
			}
			v, _ := NewVerifier(time.Hour, pinned)
			b, err := v.Verify(data, 0, t0)
			if err != nil {
				t.Fatalf("its own bundle does not verify: %v", err)
			}
			if len(b.Providers) != len(tt.bundle.Providers) {
				t.Fatalf("%d providers back, want %d", len(b.Providers), len(tt.bundle.Providers))
			}
			for _, want := range tt.bundle.Providers {
				if got := b.Provider(want.Name); got == nil || got.Issuer != want.Issuer {
					t.Errorf("provider %q: got %+v", want.Name, got)
				}
			}
		})
	}
	t.Run("a key that is not an Ed25519 private key is refused", func(t *testing.T) {
		if _, err := Sign(oneProvider(1, t0), signer[:32]); err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	der := append([]byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}, signer.Public().(ed25519.PublicKey)...)
	identity := append([]byte{1}, make([]byte, 31)...) // the neutral point: verifies forged signatures
	tests := []struct {
		name string
		in   string
		err  string // "" when accepted
	}{
		{name: "what String writes", in: pinned.String()},
		{name: "padded", in: pinned.String() + "=", err: "is not unpadded base64url"},
		{name: "standard base64 alphabet", in: base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), err: "is not unpadded base64url"},
		{name: "openssl's DER public key", in: base64.RawURLEncoding.EncodeToString(der), err: "decodes to 44 bytes"},
		{name: "empty", in: "", err: "decodes to 0 bytes"},
		{name: "a key of small order", in: base64.RawURLEncoding.EncodeToString(identity), err: "verify forged signatures"},
		{name: "not a point", in: base64.RawURLEncoding.EncodeToString(append([]byte{2}, make([]byte, 31)...)), err: "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParsePublicKey(tt.in)
			if tt.err == "" {
				if err != nil || !k.Equal(pinned) || k.ID() != pinned.ID() {
					t.Fatalf("ParsePublicKey = %v, %v", k, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want it to say %q", err, tt.err)
			}
		})
	}
}

func TestNewVerifierRefusesWhatCouldNeverVerify(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]func() (*Verifier, error){
		"no pinned key":        func() (*Verifier, error) { return NewVerifier(time.Hour) },
		"a zero max_stale":     func() (*Verifier, error) { return NewVerifier(0, pinned) },
		"a negative max_stale": func() (*Verifier, error) { return NewVerifier(-time.Second, pinned) },
		"a zero PublicKey":     func() (*Verifier, error) { return NewVerifier(time.Hour, PublicKey{}) },
	} {
		if v, err := f(); err == nil {
			t.Errorf("%s: accepted (%v)", name, v)
		}
	}
}

func TestReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("something else"), ""},
		{refuse(ErrMalformed, "x"), "malformed"},
		{refuse(ErrSignature, "x"), "bad_signature"},
		{refuse(ErrReplay, "x"), "replay"},
		{refuse(ErrUnchanged, "x"), "unchanged"},
		{refuse(ErrStale, "x"), "stale"},
		{refuse(ErrFuture, "x"), "future"},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	for _, r := range Reasons() {
		if r == "unchanged" || r == "" {
			t.Errorf("Reasons lists %q, which is not a refusal", r)
		}
	}
}

func TestCheckAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status, contentType string
		size                int
		err                 string
	}{
		{"200", MediaType, 10, ""},
		{"200", MediaType + "; charset=utf-8", 10, ""},
		{"200", strings.ToUpper(MediaType), 10, ""},
		{"503", "text/plain", 10, `answered "503"`},
		{"200", "application/jwk-set+json", 10, "--bundle-key"},
		{"200", MediaType, 0, "0 bytes"},
		{"200", MediaType, MaxBytes + 1, "bytes, want 1 to"},
	}
	for _, tt := range tests {
		err := CheckAnswer(tt.status, tt.contentType, tt.size)
		if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("CheckAnswer(%s, %s, %d) = %v, want %q", tt.status, tt.contentType, tt.size, err, tt.err)
		}
	}
	if got := ETag(1767225600123); got != `"1767225600123"` {
		t.Errorf("ETag = %s", got)
	}
}
