package keybundle

import (
	"bytes"
	"crypto/ed25519"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests below pin the edges of each bound, and the wording of refusals
// that differ only in what they say, where a comparison written one
// character off would still pass the other tests.

func TestCheckAnswerTakesABodyOfExactlyMaxBytes(t *testing.T) {
	tests := []struct {
		size int
		ok   bool
	}{
		{size: 1, ok: true},
		{size: MaxBytes, ok: true},
		{size: MaxBytes + 1},
		{size: 0},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.size), func(t *testing.T) {
			err := CheckAnswer("200", MediaType, tt.size)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckAnswer(200, %s, %d) = %v; want accepted %v", MediaType, tt.size, err, tt.ok)
			}
		})
	}
}

// paddedBundle is a bundle with one provider whose key set carries a
// padding member of n bytes, which the key-set reader ignores: each byte of
// padding is one byte of payload.
func paddedBundle(n int) Bundle {
	b := oneProvider(1, t0)
	b.Providers[0].JWKS = []byte(okpSet[:len(okpSet)-1] + `,"pad":"` + strings.Repeat("a", n) + `"}`)
	return b
}

// rawLen is the length of n bytes in unpadded base64url.
func rawLen(n int) int { return (8*n + 5) / 6 }

// bundleOfSize returns a bundle and its signed form of exactly size bytes.
func bundleOfSize(t *testing.T, size int) (Bundle, []byte) {
	t.Helper()
	small, err := Sign(paddedBundle(0), signer)
	if err != nil {
		t.Fatal(err)
	}
	_, payload, _, err := envelope(small)
	if err != nil {
		t.Fatal(err)
	}
	// The envelope around the payload has a fixed length.
	want := size - (len(small) - rawLen(len(payload)))
	n := want*6/8 - len(payload)
	if rawLen(len(payload)+n) != want {
		t.Fatalf("no payload encodes to %d base64url bytes", want)
	}
	b := paddedBundle(n)
	out, err := Sign(b, signer)
	if err != nil {
		t.Fatalf("Sign of a bundle of %d bytes: %v", size, err)
	}
	if len(out) != size {
		t.Fatalf("the bundle has %d bytes, want %d", len(out), size)
	}
	return b, out
}

func TestABundleOfExactlyMaxBytesIsSignedAndVerified(t *testing.T) {
	b, data := bundleOfSize(t, MaxBytes)
	v, err := NewVerifier(time.Hour, pinned)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(data, 0, t0)
	if err != nil {
		t.Fatalf("Verify of a bundle of exactly MaxBytes: %v", err)
	}
	if !bytes.Equal(got.Providers[0].JWKS, b.Providers[0].JWKS) || len(got.Providers[0].Keys.Keys) != 1 {
		t.Fatalf("the key set did not come through: %d keys", len(got.Providers[0].Keys.Keys))
	}
	// Three more bytes of payload are four more bundle bytes: too many.
	jwks := b.Providers[0].JWKS
	b.Providers[0].JWKS = append(append([]byte(nil), jwks[:len(jwks)-2]...), `aaa"}`...)
	if out, err := Sign(b, signer); err == nil {
		t.Fatalf("Sign wrote a bundle of %d bytes, over MaxBytes (%d)", len(out), MaxBytes)
	}
}

func TestSignTakesEachBoundExactly(t *testing.T) {
	providers := func(n int) []Provider {
		ps := make([]Provider, n)
		for i := range ps {
			ps[i] = Provider{Name: "p" + strconv.Itoa(10000+i), Issuer: "https://idp.example.com", JWKS: []byte(`{"keys":[]}`)}
		}
		return ps
	}
	withIssuer := func(n int) []Provider {
		return []Provider{{Name: "corp", Issuer: "https://" + strings.Repeat("i", n-len("https://")), JWKS: []byte(okpSet)}}
	}
	withName := func(n int) []Provider {
		return []Provider{{Name: strings.Repeat("n", n), Issuer: "https://idp.example.com", JWKS: []byte(okpSet)}}
	}
	tests := []struct {
		name      string
		providers []Provider
		err       string // a part of the error; "" when Sign must succeed
	}{
		{name: "MaxProviders providers", providers: providers(MaxProviders)},
		{name: "one provider more", providers: providers(MaxProviders + 1), err: "more than 1024 providers"},
		{name: "an issuer of 2048 bytes", providers: withIssuer(2048)},
		{name: "an issuer of 2049 bytes", providers: withIssuer(2049), err: "at most 2048 bytes"},
		{name: "a name of 256 bytes", providers: withName(256)},
		{name: "a name of 257 bytes", providers: withName(257), err: "at most 256 bytes"},
	}
	v, err := NewVerifier(time.Hour, pinned)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Sign(Bundle{Version: 1, IssuedAt: t0, Providers: tt.providers}, signer)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Sign: %v; want an error with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			b, err := v.Verify(out, 0, t0)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(b.Providers) != len(tt.providers) || b.Providers[0].Issuer != tt.providers[0].Issuer || b.Providers[0].Name != tt.providers[0].Name {
				t.Fatalf("Verify read %d providers, the first %q (issuer %q)", len(b.Providers), b.Providers[0].Name, b.Providers[0].Issuer)
			}
		})
	}
}

func TestVerifyReadsTheIntegersOfThePayloadToTheirEdges(t *testing.T) {
	const prov = `,"providers":{"corp":{"issuer":"https://idp.example.com","jwks":` + okpSet + `}}}`
	payload := func(version, issuedAt string) []byte {
		return []byte(`{"version":` + version + `,"issued_at":` + issuedAt + prov)
	}
	now := strconv.FormatInt(t0.Unix(), 10)
	tests := []struct {
		name    string
		payload []byte
		version uint64 // when it verifies
		reason  string // Reason of the refusal, "" when it verifies
		err     string // a part of the error
	}{
		{name: "version of 20 digits, the largest", payload: payload("18446744073709551615", now), version: 1<<64 - 1},
		{name: "version of 21 digits", payload: payload("100000000000000000000", now), reason: "malformed", err: "non-negative integer"},
		{name: "version 9", payload: payload("9", now), version: 9},
		{name: "version 0 says why", payload: payload("0", now), reason: "malformed", err: "version must be at least 1"},
		{name: "issued_at 0", payload: payload("1", "0"), reason: "malformed", err: "not a plausible Unix time"},
		{name: "issued_at 2^40, the latest plausible", payload: payload("1", "1099511627776"), reason: "future"},
		{name: "issued_at 2^40+1", payload: payload("1", "1099511627777"), reason: "malformed", err: "not a plausible Unix time"},
		{name: "issued_at 9 s after now", payload: payload("1", strconv.FormatInt(t0.Unix()+9, 10)), version: 1},
	}
	v, err := NewVerifier(time.Hour, pinned)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := v.Verify(signRaw(tt.payload, signer), 0, t0)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if b.Version != tt.version {
					t.Fatalf("version %d, want %d", b.Version, tt.version)
				}
				return
			}
			if Reason(err) != tt.reason || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Verify: %v (%q); want %q with %q", err, Reason(err), tt.reason, tt.err)
			}
		})
	}
}

func TestVerifyNamesEveryPinnedKey(t *testing.T) {
	stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))
	data := sign(t, oneProvider(1, t0), stranger)
	tests := []struct {
		name string
		keys []PublicKey
		want string
	}{
		{name: "one", keys: []PublicKey{pinned}, want: `(pinned: "` + pinned.ID() + `")`},
		{name: "two", keys: []PublicKey{pinned, otherPinned}, want: `(pinned: "` + pinned.ID() + `", "` + otherPinned.ID() + `")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(time.Hour, tt.keys...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(data, 0, t0)
			if Reason(err) != "bad_signature" || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify: %v; want bad_signature naming %s", err, tt.want)
			}
		})
	}
}

func TestVerifySaysWhatIsWrongWithASignedProvider(t *testing.T) {
	const entry = `{"issuer":"i","jwks":{"keys":[]}}`
	payload := func(providers string) []byte {
		return []byte(`{"version":5,"issued_at":1767225600,"providers":{` + providers + `}}`)
	}
	many := func(n int) string {
		var s strings.Builder
		for i := range n {
			if i > 0 {
				s.WriteByte(',')
			}
			s.WriteString(`"p` + strconv.Itoa(10000+i) + `":` + entry)
		}
		return s.String()
	}
	tests := []struct {
		name    string
		payload []byte
		err     string // a part of the error; "" when it verifies
	}{
		{name: "MaxProviders providers", payload: payload(many(MaxProviders))},
		{name: "one provider more", payload: payload(many(MaxProviders + 1)), err: "more than 1024 providers"},
		{name: "an empty name", payload: payload(`"":` + entry), err: "a provider name is empty or longer than 256 bytes"},
		{name: "a name of 256 bytes", payload: payload(`"` + strings.Repeat("n", 256) + `":` + entry)},
		{name: "a name of 257 bytes", payload: payload(`"` + strings.Repeat("n", 257) + `":` + entry), err: "a provider name is empty or longer than 256 bytes"},
		{name: "a provider that is not an object", payload: payload(`"corp":[]`), err: "providers.corp must be an object"},
		{name: "an issuer that is a number", payload: payload(`"corp":{"issuer":1,"jwks":{"keys":[]}}`), err: "providers.corp.issuer must be a non-empty string"},
		{name: "an empty issuer", payload: payload(`"corp":{"issuer":"","jwks":{"keys":[]}}`), err: "providers.corp.issuer must be a non-empty string"},
		{name: "an unknown member", payload: payload(`"corp":{"issuer":"i","jwks":{"keys":[]},"ttl":1}`), err: `providers.corp: unknown member "ttl"`},
		{name: "no jwks", payload: payload(`"corp":{"issuer":"i"}`), err: "providers.corp: issuer and jwks are both required"},
		{name: "providers out of order", payload: payload(`"b":` + entry + `,"a":` + entry), err: "not sorted by name"},
	}
	v, err := NewVerifier(time.Hour, pinned)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := v.Verify(signRaw(tt.payload, signer), 0, t0)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if len(b.Providers) == 0 {
					t.Fatal("no providers read")
				}
				return
			}
			if Reason(err) != "malformed" || !strings.Contains(err.Error(), tt.err) || b != nil {
				t.Fatalf("Verify = %v, %v; want malformed with %q", b, err, tt.err)
			}
		})
	}
}

func TestSignEscapesOnlyControlCharacters(t *testing.T) {
	tests := []struct {
		name, issuer string
		want         string // the issuer as the payload writes it
	}{
		{name: "the last control character is escaped", issuer: "a\x1fb", want: `"a\u001fb"`},
		{name: "a space is written as it is", issuer: "a b", want: `"a b"`},
		{name: "DEL is written as it is", issuer: "a\x7fb", want: "\"a\x7fb\""},
		{name: "a quote and a backslash", issuer: `a"\b`, want: `"a\"\\b"`},
	}
	v, err := NewVerifier(time.Hour, pinned)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := sign(t, Bundle{Version: 1, IssuedAt: t0, Providers: []Provider{{Name: "corp", Issuer: tt.issuer, JWKS: []byte(`{"keys":[]}`)}}}, signer)
			_, payload, _, err := envelope(data)
			if err != nil {
				t.Fatal(err)
			}
			want := `{"version":1,"issued_at":1767225600,"providers":{"corp":{"issuer":` + tt.want + `,"jwks":{"keys":[]}}}}`
			if string(payload) != want {
				t.Fatalf("payload\n got %q\nwant %q", payload, want)
			}
			b, err := v.Verify(data, 0, t0)
			if err != nil || b.Providers[0].Issuer != tt.issuer {
				t.Fatalf("Verify = %+v, %v; want the issuer %q back", b, err, tt.issuer)
			}
		})
	}
}
