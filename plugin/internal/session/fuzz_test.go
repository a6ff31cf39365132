package session

import (
	"testing"
	"time"
)

// FuzzRead feeds arbitrary Cookie headers to Read and Open: neither may
// panic, Read's value must come from the header, and nothing but a value
// Seal made may open.
func FuzzRead(f *testing.F) {
	// A fixed nonce: the fuzzing workers set the target up again, and must
	// seal the same value as the seed corpus holds.
	c, err := NewCodec("tg", []Key{k1}, WithRandom(func(b []byte) error { clear(b); return nil }))
	if err != nil {
		f.Fatal(err)
	}
	sealed, _ := c.Seal("session", []byte("fuzz"), t0.Add(time.Hour))
	chunks, _ := c.Chunks(sealed)
	f.Add("tg=" + chunks[0].Value)
	f.Add("a=1; tg=2.v1.k1.abc; tg-1=def")
	f.Add("tg=1.v1.k1.; tg=1.x")
	f.Add("tg-1=x;;tg=9.")
	f.Fuzz(func(t *testing.T, header string) {
		got, present, err := c.Read([]string{header})
		if err != nil || !present {
			if got != "" {
				t.Fatalf("Read returned %q with %v, %v", got, present, err)
			}
			return
		}
		pt, err := c.Open("session", got, t0)
		if err == nil && (got != sealed || string(pt) != "fuzz") {
			t.Fatalf("Open accepted %q, which Seal did not make", got)
		}
		kept, _ := Strip(header, c)
		if s, p, _ := c.Read([]string{kept}); p || s != "" {
			t.Fatalf("Strip(%q) = %q still holds the cookie", header, kept)
		}
	})
}

// FuzzPayload decodes arbitrary plaintexts as sessions and states: no
// panic, and what decodes encodes back to the same bytes.
func FuzzPayload(f *testing.F) {
	s, _ := (&Session{Created: t0, Obtained: t0, AccessExpiry: t0, AccessToken: "a", RefreshToken: "r", IDToken: "i"}).MarshalBinary()
	st, _ := (&State{Created: t0, State: "s", Nonce: "n", Verifier: "v", Return: "/x"}).MarshalBinary()
	f.Add(s)
	f.Add(st)
	f.Add([]byte{'S', 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Session
		if s.UnmarshalBinary(b) == nil {
			again, err := s.MarshalBinary()
			if err != nil || string(again) != string(b) {
				t.Fatalf("session %x decodes but encodes to %x (%v)", b, again, err)
			}
		}
		var st State
		if st.UnmarshalBinary(b) == nil {
			again, err := st.MarshalBinary()
			if err != nil || string(again) != string(b) {
				t.Fatalf("state %x decodes but encodes to %x (%v)", b, again, err)
			}
		}
	})
}
