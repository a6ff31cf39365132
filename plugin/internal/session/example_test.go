package session_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/tokengate/tokengate/plugin/internal/session"
)

// A session sealed into cookies, read back from the request's Cookie
// header and opened; then the same cookie after the key was retired.
func Example() {
	k1 := session.Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, session.KeySize)}
	k2 := session.Key{ID: "k2", Secret: bytes.Repeat([]byte{2}, session.KeySize)}
	codec, err := session.NewCodec("__Host-tokengate", []session.Key{k1})
	if err != nil {
		panic(err)
	}
	now := time.Unix(1_700_000_000, 0)
	s := session.Session{Created: now, Obtained: now, AccessExpiry: now.Add(5 * time.Minute),
		AccessToken: strings.Repeat("a", 3000), RefreshToken: "r", IDToken: "i"}
	plaintext, _ := s.MarshalBinary()
	sealed, _ := codec.Seal("session", plaintext, now.Add(8*time.Hour))
	cookies, _ := codec.Chunks(sealed)
	var pairs []string
	for _, c := range cookies {
		fmt.Println("Set-Cookie:", session.SetCookie(session.Cookie{Name: c.Name, Value: "…"}, 8*3600))
		pairs = append(pairs, c.Name+"="+c.Value)
	}

	header := strings.Join(pairs, "; ")
	read, _, _ := codec.Read([]string{header})
	opened, err := codec.Open("session", read, now.Add(time.Minute))
	var back session.Session
	if err == nil {
		err = back.UnmarshalBinary(opened)
	}
	fmt.Println("opened:", err == nil && len(back.AccessToken) == 3000)

	rotated, _ := session.NewCodec("__Host-tokengate", []session.Key{k2, k1})
	_, err = rotated.Open("session", read, now.Add(time.Minute))
	fmt.Println("after a rotation:", err)
	retired, _ := session.NewCodec("__Host-tokengate", []session.Key{k2})
	_, err = retired.Open("session", read, now.Add(time.Minute))
	fmt.Println("after retiring k1:", err)
	// Output:
	// Set-Cookie: __Host-tokengate=…; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax
	// Set-Cookie: __Host-tokengate-1=…; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax
	// opened: true
	// after a rotation: <nil>
	// after retiring k1: the cookie was sealed with a key the configuration no longer has
}
