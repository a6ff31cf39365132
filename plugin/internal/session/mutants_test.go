package session

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// The tests of this file pin the edges of every bound and character range
// of the package: each fails when one comparison is moved by one, or one
// length is subtracted instead of added (MUTANTS.md lists them).

func TestNamesAndKeyIDsAtTheirEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id string
		ok       bool
	}{
		{name: strings.Repeat("n", 64), id: "k1", ok: true},
		{name: strings.Repeat("n", 65), id: "k1"},
		{name: "tg", id: strings.Repeat("k", MaxKeyID), ok: true},
		{name: "tg", id: strings.Repeat("k", MaxKeyID+1)},
		// Each end of each range of a key id.
		{name: "tg", id: "a", ok: true},
		{name: "tg", id: "z", ok: true},
		{name: "tg", id: "A", ok: true},
		{name: "tg", id: "B", ok: true},
		{name: "tg", id: "Z", ok: true},
		{name: "tg", id: "0", ok: true},
		{name: "tg", id: "9", ok: true},
		{name: "tg", id: "-", ok: true},
		{name: "tg", id: "_", ok: true},
		{name: "tg", id: "`"}, // 'a'-1
		{name: "tg", id: "{"}, // 'z'+1
		{name: "tg", id: "@"}, // 'A'-1
		{name: "tg", id: "["}, // 'Z'+1
		{name: "tg", id: "/"}, // '0'-1
		{name: "tg", id: ":"}, // '9'+1
		// Each end of each range of a cookie name, and the first of its
		// other characters.
		{name: "a", id: "k1", ok: true},
		{name: "z", id: "k1", ok: true},
		{name: "A", id: "k1", ok: true},
		{name: "Z", id: "k1", ok: true},
		{name: "0", id: "k1", ok: true},
		{name: "9", id: "k1", ok: true},
		{name: "!", id: "k1", ok: true},
		{name: "~", id: "k1", ok: true},
		{name: "{", id: "k1"},
		{name: "@", id: "k1"},
		{name: "[", id: "k1"},
		{name: "/", id: "k1"},
		{name: ":", id: "k1"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.id, func(t *testing.T) {
			_, err := NewCodec(tt.name, []Key{{ID: tt.id, Secret: secret(1)}})
			if (err == nil) != tt.ok {
				t.Fatalf("NewCodec(%q, id %q) = %v, want ok %v", tt.name, tt.id, err, tt.ok)
			}
		})
	}
}

// The additional data of a value grows with the purpose, the cookie name and
// the key id: each at its longest still seals and opens.
func TestSealAndOpenWithLongNamesIDsAndPurposes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, purpose, cookie, id string
	}{
		{name: "a long purpose", purpose: strings.Repeat("p", 100), cookie: "tg", id: "k1"},
		{name: "the longest cookie name", purpose: "", cookie: strings.Repeat("n", 64), id: "k1"},
		{name: "the longest key id", purpose: "", cookie: "t", id: strings.Repeat("k", MaxKeyID)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCodec(t, tt.cookie, Key{ID: tt.id, Secret: secret(3)})
			sealed, err := c.Seal(tt.purpose, []byte("hello"), t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.Open(tt.purpose, sealed, t0); err != nil || string(got) != "hello" {
				t.Fatalf("Open = %q, %v", got, err)
			}
		})
	}
}

// sealedOfLength seals a value of exactly n bytes (for n from 60 on, n not
// 1 more than a multiple of 4) under the key "k1".
func sealedOfLength(t *testing.T, c *Codec, n int) (string, []byte) {
	t.Helper()
	b64 := n - len("v1.k1.")
	raw := b64 / 4 * 3
	switch b64 % 4 {
	case 2:
		raw++
	case 3:
		raw += 2
	}
	plaintext := bytes.Repeat([]byte{'x'}, raw-nonceSize-8-tagSize)
	sealed, err := c.Seal("session", plaintext, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != n {
		t.Fatalf("sealed %d bytes, want %d", len(sealed), n)
	}
	return sealed, plaintext
}

// A value of exactly maxSealed bytes is the largest Read gathers and Open
// opens.
func TestTheLargestValueIsReadAndOpened(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, "tg", k1)
	sealed, plaintext := sealedOfLength(t, c, maxSealed)
	if got, err := c.Open("session", sealed, t0); err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("Open of %d bytes: %v", len(sealed), err)
	}
	if _, err := c.Open("session", sealed+"A", t0); err != ErrMalformed {
		t.Fatalf("Open of %d bytes = %v, want ErrMalformed", len(sealed)+1, err)
	}
	const piece = maxSealed / MaxChunks
	header := "tg=5." + sealed[:piece]
	for i := 1; i < MaxChunks; i++ {
		header += "; " + c.chunkName(i) + "=" + sealed[i*piece:(i+1)*piece]
	}
	got, present, err := c.Read([]string{header})
	if err != nil || !present || got != sealed {
		t.Fatalf("Read of %d bytes = %d bytes, %v, %v", maxSealed, len(got), present, err)
	}
	if _, _, err := c.Read([]string{header + "A"}); err != ErrMalformed {
		t.Fatalf("Read of %d bytes = %v, want ErrMalformed", maxSealed+1, err)
	}
}

// Fewer bytes than a nonce, an expiry and a tag are malformed before any
// decryption, whether or not they would authenticate.
func TestOpenRefusesShortValuesAsMalformed(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, "tg", k1)
	k := c.keys[0]
	nonce := make([]byte, nonceSize)
	authentic := func(msg []byte) string {
		out := k.aead.Seal(append([]byte(nil), nonce...), nonce, msg, c.aad("session", "k1"))
		return "v1.k1." + base64.RawURLEncoding.EncodeToString(out)
	}
	tests := []struct {
		name, sealed string
	}{
		{name: "5 bytes", sealed: "v1.k1." + base64.RawURLEncoding.EncodeToString(make([]byte, 5))},
		{name: "24 bytes", sealed: "v1.k1." + base64.RawURLEncoding.EncodeToString(make([]byte, 24))},
		{name: "35 bytes", sealed: "v1.k1." + base64.RawURLEncoding.EncodeToString(make([]byte, 35))},
		{name: "an authentic empty message", sealed: authentic(nil)},
		{name: "an authentic message of 7 bytes", sealed: authentic(make([]byte, 7))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := c.Open("session", tt.sealed, t0); err != ErrMalformed {
				t.Fatalf("Open = %q, %v; want ErrMalformed", got, err)
			}
		})
	}
}

// A value that fills its cookies exactly takes no extra, empty cookie.
func TestChunksFillEachCookie(t *testing.T) {
	t.Parallel()
	c := mustCodec(t, "tg", k1)
	room := MaxCookieBytes - len("tg") - len("-9=") - len("9.")
	tests := []struct{ size, want int }{
		{size: 0, want: 1},
		{size: 1, want: 1},
		{size: room - 1, want: 1},
		{size: room, want: 1},
		{size: room + 1, want: 2},
		{size: 2 * room, want: 2},
		{size: MaxChunks * room, want: MaxChunks},
	}
	for _, tt := range tests {
		cookies, err := c.Chunks(strings.Repeat("v", tt.size))
		if err != nil || len(cookies) != tt.want {
			t.Errorf("Chunks of %d bytes = %d cookies, %v; want %d", tt.size, len(cookies), err, tt.want)
		}
	}
	if _, err := c.Chunks(strings.Repeat("v", MaxChunks*room+1)); err != ErrTooLarge {
		t.Errorf("Chunks of %d bytes = %v, want ErrTooLarge", MaxChunks*room+1, err)
	}
}

// Fields at the edges of their encoding: a length of 127 and 128 (one and
// two bytes of varint), the largest field, and long fields in every place.
func TestPayloadFieldsAtTheirEdges(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("t", 1000)
	sessions := []Session{
		{AccessToken: strings.Repeat("a", 127)},
		{AccessToken: strings.Repeat("a", 128)},
		{AccessToken: strings.Repeat("a", maxField)},
		{AccessToken: "a", RefreshToken: long},
		{AccessToken: "a", IDToken: long},
		{AccessToken: long, RefreshToken: strings.Repeat("r", 128), IDToken: strings.Repeat("i", maxField)},
	}
	for i, s := range sessions {
		s.Created, s.Obtained, s.AccessExpiry = t0, t0.Add(time.Minute), t0.Add(time.Hour)
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("session %d: MarshalBinary: %v", i, err)
		}
		var got Session
		if err := got.UnmarshalBinary(b); err != nil || got != s {
			t.Fatalf("session %d: UnmarshalBinary = %v, %+v", i, err, got)
		}
	}
	states := []State{
		{State: long, Nonce: "n", Verifier: "v", Return: "/"},
		{State: "s", Nonce: long, Verifier: "v", Return: "/"},
		{State: "s", Nonce: "n", Verifier: long, Return: "/"},
		{State: "s", Nonce: "n", Verifier: "v", Return: "/" + long},
		{State: strings.Repeat("s", 128), Nonce: strings.Repeat("n", maxField), Verifier: "v", Return: "/"},
	}
	for i, st := range states {
		st.Created = t0
		b, err := st.MarshalBinary()
		if err != nil {
			t.Fatalf("state %d: MarshalBinary: %v", i, err)
		}
		var got State
		if err := got.UnmarshalBinary(b); err != nil || got != st {
			t.Fatalf("state %d: UnmarshalBinary = %v", i, err)
		}
	}
}

func TestUvarintLen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    uint64
		want int
	}{{0, 1}, {0x7f, 1}, {0x80, 2}, {0x81, 2}, {0x3fff, 2}, {0x4000, 3}}
	for _, tt := range tests {
		if got := uvarintLen(tt.v); got != tt.want {
			t.Errorf("uvarintLen(%#x) = %d, want %d", tt.v, got, tt.want)
		}
	}
}

func TestReturnPathAtItsEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		ok   bool
	}{
		{"/" + strings.Repeat("a", MaxReturnPath-1), true},
		{"/" + strings.Repeat("a", MaxReturnPath), false},
		{"/~", true},
		{"/!", true},
		{"/ ", false},
		{"/\x7f", false},
	}
	for _, tt := range tests {
		if got := ReturnPath(tt.path); got != tt.ok {
			t.Errorf("ReturnPath(%.20q, %d bytes) = %v, want %v", tt.path, len(tt.path), got, tt.ok)
		}
	}
}

// The capacities computed ahead of the appends are exact: encoding a payload
// costs one allocation, with lengths of one or two bytes of varint.
func TestEncodingAllocatesOnce(t *testing.T) {
	long := strings.Repeat("t", 200)
	longPath := "/" + long
	tests := []struct {
		name string
		f    func()
	}{
		{name: "a session of short tokens", f: func() {
			s := Session{AccessToken: "a", RefreshToken: "r", IDToken: "i"}
			_, _ = s.MarshalBinary()
		}},
		{name: "a session of long tokens", f: func() {
			s := Session{AccessToken: long, RefreshToken: long, IDToken: long}
			_, _ = s.MarshalBinary()
		}},
		{name: "a state of short fields", f: func() {
			st := State{State: "s", Nonce: "n", Verifier: "v", Return: "/"}
			_, _ = st.MarshalBinary()
		}},
		{name: "a state of long fields", f: func() {
			st := State{State: long, Nonce: long, Verifier: long, Return: longPath}
			_, _ = st.MarshalBinary()
		}},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(20, tt.f); got != 1 {
			t.Errorf("%s: %v allocations, want 1", tt.name, got)
		}
	}
}
