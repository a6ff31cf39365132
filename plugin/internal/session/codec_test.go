package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

var (
	k1 = Key{ID: "k1", Secret: secret(1)}
	k2 = Key{ID: "k2", Secret: secret(2)}
)

func mustCodec(t testing.TB, name string, keys ...Key) *Codec {
	t.Helper()
	c, err := NewCodec(name, keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var t0 = time.Unix(1_700_000_000, 0)

func TestOpenRefusesWhatItDidNotSeal(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, "tg", k1)
	sealed, err := c.Seal("session", []byte("hello"), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name    string
		codec   *Codec
		purpose string
		sealed  string
		now     time.Time
		want    error
	}{
		{name: "the value as sealed opens", codec: c, purpose: "session", sealed: sealed, now: t0},
		{name: "one second before its expiry it still opens", codec: c, purpose: "session", sealed: sealed, now: t0.Add(time.Hour - time.Second)},
		{name: "at its expiry it is expired", codec: c, purpose: "session", sealed: sealed, now: t0.Add(time.Hour), want: ErrExpired},
		{name: "a byte of the ciphertext changed is tampered", codec: c, purpose: "session", sealed: flip(sealed, len(sealed)-30), now: t0, want: ErrTampered},
		{name: "a byte of the tag changed is tampered", codec: c, purpose: "session", sealed: flip(sealed, len(sealed)-2), now: t0, want: ErrTampered},
		{name: "a byte of the nonce changed is tampered", codec: c, purpose: "session", sealed: flip(sealed, len("v1.k1.")+2), now: t0, want: ErrTampered},
		{name: "sealed for another purpose it is tampered", codec: c, purpose: "state", sealed: sealed, now: t0, want: ErrTampered},
		{name: "under another cookie name it is tampered", codec: mustCodec(t, "other", k1), purpose: "session", sealed: sealed, now: t0, want: ErrTampered},
		{name: "a key id the codec lacks is an unknown key", codec: mustCodec(t, "tg", k2), purpose: "session", sealed: sealed, now: t0, want: ErrUnknownKey},
		{name: "the same key id with another secret is tampered", codec: mustCodec(t, "tg", Key{ID: "k1", Secret: secret(9)}), purpose: "session", sealed: sealed, now: t0, want: ErrTampered},
		{name: "the key id changed to another key's is tampered", codec: mustCodec(t, "tg", k1, Key{ID: "k3", Secret: secret(1)}), purpose: "session", sealed: strings.Replace(sealed, "v1.k1.", "v1.k3.", 1), now: t0, want: ErrTampered},
		{name: "a truncated value is tampered", codec: c, purpose: "session", sealed: truncate(t, sealed, 3), now: t0, want: ErrTampered},
		{name: "a value cut to the header is malformed", codec: c, purpose: "session", sealed: "v1.k1.", now: t0, want: ErrMalformed},
		{name: "another version is malformed", codec: c, purpose: "session", sealed: "v2" + sealed[2:], now: t0, want: ErrMalformed},
		{name: "padding is malformed", codec: c, purpose: "session", sealed: sealed + "==", now: t0, want: ErrMalformed},
		{name: "a line break inside the sealed value is malformed, not another spelling of it", codec: c, purpose: "session",
			sealed: sealed[:len("v1.k1.")+4] + "\n" + sealed[len("v1.k1.")+4:], now: t0, want: ErrMalformed},
		{name: "standard base64 is malformed", codec: c, purpose: "session", sealed: "v1.k1.ab+/" + strings.Repeat("A", 60), now: t0, want: ErrMalformed},
		{name: "a key id with a dot is malformed", codec: c, purpose: "session", sealed: "v1.k.1.AAAA", now: t0, want: ErrMalformed},
		{name: "an empty value is malformed", codec: c, purpose: "session", sealed: "", now: t0, want: ErrMalformed},
		{name: "a huge value is malformed before any decoding", codec: c, purpose: "session", sealed: "v1.k1." + strings.Repeat("A", maxSealed), now: t0, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.codec.Open(tt.purpose, tt.sealed, tt.now)
			if err != tt.want {
				t.Fatalf("Open = %q, %v; want error %v", got, err, tt.want)
			}
			if err == nil && string(got) != "hello" {
				t.Fatalf("Open = %q, want hello", got)
			}
		})
	}
}

// truncate drops the last n bytes of a sealed value's ciphertext.
func truncate(t *testing.T, sealed string, n int) string {
	t.Helper()
	head := sealed[:len("v1.k1.")]
	raw, err := base64.RawURLEncoding.DecodeString(sealed[len(head):])
	if err != nil {
		t.Fatal(err)
	}
	return head + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-n])
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	old := mustCodec(t, "tg", k1)
	rotated := mustCodec(t, "tg", k2, k1) // the new key first: it seals, both open
	retired := mustCodec(t, "tg", k2)
	sealedOld, err := old.Seal("session", []byte("old"), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sealedNew, err := rotated.Seal("session", []byte("new"), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealedNew, "v1.k2.") {
		t.Fatalf("the rotated codec sealed with %q, want the first key k2", sealedNew[:6])
	}
	tests := []struct {
		name   string
		codec  *Codec
		sealed string
		want   string
		err    error
	}{
		{"a cookie of the old key is still read after the rotation", rotated, sealedOld, "old", nil},
		{"a cookie of the new key is read", rotated, sealedNew, "new", nil},
		{"the old key retired, its cookies are refused as an unknown key", retired, sealedOld, "", ErrUnknownKey},
		{"a configuration that has not rotated yet refuses the new key's cookies", old, sealedNew, "", ErrUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.codec.Open("session", tt.sealed, t0)
			if err != tt.err || string(got) != tt.want {
				t.Fatalf("Open = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestSealFailsClosedWithoutRandomness(t *testing.T) {
	t.Parallel()
	c, err := NewCodec("tg", []Key{k1}, WithRandom(func([]byte) error { return errors.New("random_get: EIO") }))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := c.Seal("session", []byte("x"), t0); err != ErrRandom || s != "" {
		t.Fatalf("Seal = %q, %v; want ErrRandom", s, err)
	}
	if s, err := Token(func([]byte) error { return errors.New("EIO") }, 32); err != ErrRandom || s != "" {
		t.Fatalf("Token = %q, %v; want ErrRandom", s, err)
	}
}

func TestSealUsesAFreshNonceEachTime(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, "tg", k1)
	a, _ := c.Seal("session", []byte("same"), t0)
	b, _ := c.Seal("session", []byte("same"), t0)
	if a == b {
		t.Fatal("two seals of the same plaintext are equal: the nonce is not random")
	}
}

func TestNewCodecRefusesBadKeysAndNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cookie string
		keys   []Key
		want   string
	}{
		{"no key", "tg", nil, "at least one key"},
		{"a short secret", "tg", []Key{{ID: "a", Secret: make([]byte, 16)}}, "must be 32 bytes, not 16"},
		{"a key id with a dot", "tg", []Key{{ID: "a.b", Secret: secret(1)}}, "id \"a.b\""},
		{"an empty key id", "tg", []Key{{ID: "", Secret: secret(1)}}, "id \"\""},
		{"a key id given twice", "tg", []Key{k1, {ID: "k1", Secret: secret(3)}}, "given twice"},
		{"a cookie name with a space", "my cookie", []Key{k1}, "cookie name"},
		{"a cookie name with a semicolon", "a;b", []Key{k1}, "cookie name"},
		{"an empty cookie name", "", []Key{k1}, "cookie name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCodec(tt.cookie, tt.keys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewCodec = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestChunksRoundTrip(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, "__Host-tg", k1)
	for _, size := range []int{0, 1, 100, 3000, 3980, 3990, 8000, 12000, 19000} {
		plaintext := bytes.Repeat([]byte{'x'}, size)
		sealed, err := c.Seal("session", plaintext, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		cookies, err := c.Chunks(sealed)
		if size >= 14700 {
			if err != ErrTooLarge {
				t.Fatalf("%d bytes: Chunks = %d cookies, %v; want ErrTooLarge", size, len(cookies), err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		var header []string
		for i, ck := range cookies {
			if len(ck.Name)+1+len(ck.Value) > MaxCookieBytes {
				t.Errorf("%d bytes: cookie %d is %d bytes, more than %d", size, i, len(ck.Name)+1+len(ck.Value), MaxCookieBytes)
			}
			header = append(header, ck.Name+"="+ck.Value)
		}
		// The browser sends them in any order, with other cookies between.
		for i, j := 0, len(header)-1; i < j; i, j = i+1, j-1 {
			header[i], header[j] = header[j], header[i]
		}
		got, present, err := c.Read([]string{"a=b; " + strings.Join(header, "; ") + "; z=y"})
		if err != nil || !present || got != sealed {
			t.Fatalf("%d bytes in %d cookies: Read = %d bytes, %v, %v", size, len(cookies), len(got), present, err)
		}
		if pt, err := c.Open("session", got, t0); err != nil || !bytes.Equal(pt, plaintext) {
			t.Fatalf("%d bytes: Open after Read: %v", size, err)
		}
	}
}

func TestRead(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, "tg", k1)
	tests := []struct {
		name    string
		headers []string
		sealed  string
		present bool
		err     error
	}{
		{name: "no cookie header", headers: nil},
		{name: "other cookies only", headers: []string{"a=1; tgx=2; xtg=3"}},
		{name: "a stale chunk alone is not a session", headers: []string{"tg-1=abc"}},
		{name: "one cookie", headers: []string{"a=1; tg=1.v1.k1.abc"}, sealed: "v1.k1.abc", present: true},
		{name: "two chunks over two headers", headers: []string{"tg-1=def", "tg=2.v1.k1.abc"}, sealed: "v1.k1.abcdef", present: true},
		{name: "a stale chunk beyond the count is ignored", headers: []string{"tg=1.v1.k1.abc; tg-1=stale"}, sealed: "v1.k1.abc", present: true},
		{name: "a missing chunk is malformed", headers: []string{"tg=3.v1.k1.abc; tg-1=def"}, present: true, err: ErrMalformed},
		{name: "no count is malformed", headers: []string{"tg=v1.k1.abc"}, present: true, err: ErrMalformed},
		{name: "a count of zero is malformed", headers: []string{"tg=0.v1.k1.abc"}, present: true, err: ErrMalformed},
		{name: "a count beyond MaxChunks is malformed", headers: []string{"tg=6.v1.k1.abc"}, present: true, err: ErrMalformed},
		{name: "the cookie twice is a duplicate", headers: []string{"tg=1.a; tg=1.b"}, present: true, err: ErrDuplicate},
		{name: "the cookie twice in two headers is a duplicate", headers: []string{"tg=1.a", "tg=1.a"}, present: true, err: ErrDuplicate},
		{name: "a chunk twice is a duplicate", headers: []string{"tg=2.a; tg-1=b; tg-1=c"}, present: true, err: ErrDuplicate},
		{name: "spaces around pairs are trimmed", headers: []string{"  tg=1.v1.k1.abc  ;other=1"}, sealed: "v1.k1.abc", present: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sealed, present, err := c.Read(tt.headers)
			if sealed != tt.sealed || present != tt.present || err != tt.err {
				t.Fatalf("Read = %q, %v, %v; want %q, %v, %v", sealed, present, err, tt.sealed, tt.present, tt.err)
			}
		})
	}
}

func TestStripAndPresent(t *testing.T) {
	t.Parallel()
	session, state := mustCodec(t, "tg", k1), mustCodec(t, "tg-state", k1)
	tests := []struct {
		name    string
		header  string
		kept    string
		changed bool
		present []string
	}{
		{name: "no cookie of ours is left as it is", header: "a=1;b=2", kept: "a=1;b=2"},
		{name: "ours removed, the rest in order", header: "a=1; tg=2.x; b=2; tg-1=y; tg-state=1.z", kept: "a=1; b=2", changed: true,
			present: []string{"tg", "tg-1"}},
		{name: "only ours leaves nothing", header: "tg=1.x", kept: "", changed: true, present: []string{"tg"}},
		{name: "names that only look like ours stay", header: "tg-5=x; tg-10=y; TG=z; tgx=w", kept: "tg-5=x; tg-10=y; TG=z; tgx=w"},
		{name: "empty pairs go with ours", header: "tg-4=x;; a=1;", kept: "a=1", changed: true, present: []string{"tg-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, changed := Strip(tt.header, session, state)
			if kept != tt.kept || changed != tt.changed {
				t.Errorf("Strip = %q, %v; want %q, %v", kept, changed, tt.kept, tt.changed)
			}
			if got := session.Present([]string{tt.header}); strings.Join(got, ",") != strings.Join(tt.present, ",") {
				t.Errorf("Present = %q, want %q", got, tt.present)
			}
		})
	}
}

func TestSetCookieAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{SetCookie(Cookie{Name: "tg", Value: "1.v1.k1.abc"}, 3600), "tg=1.v1.k1.abc; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax"},
		{SetCookie(Cookie{Name: "tg", Value: "x"}, -5), "tg=x; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
		{ClearCookie("tg-1"), "tg-1=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got  %s\nwant %s", tt.got, tt.want)
		}
	}
}
