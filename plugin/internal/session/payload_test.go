package session

import (
	"strings"
	"testing"
	"time"
)

func TestSessionRoundTrip(t *testing.T) {
	t.Parallel()
	s := Session{Created: t0, Obtained: t0.Add(time.Minute), AccessExpiry: t0.Add(6 * time.Minute),
		AccessToken: "a.b.c", RefreshToken: "r", IDToken: "i.d.t"}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Session
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got != s {
		t.Fatalf("round trip: %+v, want %+v", got, s)
	}
	for i := 0; i < len(b); i++ {
		if err := new(Session).UnmarshalBinary(b[:i]); err != ErrPayload {
			t.Fatalf("the first %d of %d bytes: %v, want ErrPayload", i, len(b), err)
		}
	}
	if err := new(Session).UnmarshalBinary(append(b, 0)); err != ErrPayload {
		t.Fatalf("a byte more: %v, want ErrPayload", err)
	}
	st, _ := (&State{Created: t0, State: "s", Nonce: "n", Verifier: "v", Return: "/"}).MarshalBinary()
	if err := new(Session).UnmarshalBinary(st); err != ErrPayload {
		t.Fatalf("a state read as a session: %v, want ErrPayload", err)
	}
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		state State
		ok    bool
	}{
		{"a complete state", State{Created: t0, State: "s", Nonce: "n", Verifier: "v", Return: "/ui/#/experiments?x=1"}, false},
		{"a state with a query", State{Created: t0, State: "s", Nonce: "n", Verifier: "v", Return: "/ui/?x=1&y=2"}, true},
		{"no nonce", State{Created: t0, State: "s", Verifier: "v", Return: "/"}, false},
		{"a return address on another origin", State{Created: t0, State: "s", Nonce: "n", Verifier: "v", Return: "//evil.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.state.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got State
			err = got.UnmarshalBinary(b)
			if tt.ok != (err == nil) || tt.ok && got != tt.state {
				t.Fatalf("UnmarshalBinary = %+v, %v; want ok=%v", got, err, tt.ok)
			}
		})
	}
}

func TestMarshalRefusesHugeTokens(t *testing.T) {
	t.Parallel()
	s := Session{AccessToken: strings.Repeat("a", maxField+1)}
	if _, err := s.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "too large for a cookie") {
		t.Fatalf("MarshalBinary = %v, want an error about the size", err)
	}
}

func TestReturnPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/ui/", true},
		{"/ajax-api/2.0/mlflow/experiments/search?max_results=10&filter=name%20LIKE%20'a'", true},
		{"/a//b", true}, // a path on this origin, however odd
		{"", false},
		{"ui/", false},
		{"//evil.example/", false},
		{"/\\evil.example/", false},
		{"/a\\b", false},
		{"/\t/evil.example", false},
		{"/a b", false},
		{"/a\nb", false},
		{"/é", false},
		{"/#frag", false},
		{"https://evil.example/", false},
		{"/" + strings.Repeat("a", MaxReturnPath), false},
	}
	for _, tt := range tests {
		if got := ReturnPath(tt.path); got != tt.ok {
			t.Errorf("ReturnPath(%q) = %v, want %v", tt.path, got, tt.ok)
		}
	}
}

// TestChallenge checks the example of RFC 7636 Appendix B.
func TestChallenge(t *testing.T) {
	t.Parallel()
	if got := Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"); got != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Fatalf("Challenge = %q", got)
	}
	v, err := Token(nil, VerifierBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 43 {
		t.Fatalf("a verifier of %d characters; RFC 7636 asks for 43 to 128", len(v))
	}
}
