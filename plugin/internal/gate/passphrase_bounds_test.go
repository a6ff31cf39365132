package gate

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/pbkdf2"
)

// These tests draw each limit of the passphrase provider at its exact edge,
// so that moving a limit by one in either direction fails a test.

func pbkdf2Config(iterations int, salt []byte, secret string) string {
	key := pbkdf2.Key([]byte(secret), salt, iterations, 32, sha256.New)
	enc := base64.RawStdEncoding.EncodeToString
	return `{"providers":{"batch":{"type":"passphrase","hashed_passphrase":"pbkdf2-sha256$` +
		strconv.Itoa(iterations) + `$` + enc(salt) + `$` + enc(key) + `"}}}`
}

func TestPassphraseLimitsAreInclusive(t *testing.T) {
	salt8, salt7 := []byte("01234567"), []byte("0123456")
	cost4, err := bcrypt.GenerateFromPassword([]byte("x"), 4)
	if err != nil {
		t.Fatal(err)
	}
	withCost := func(c string) string { return strings.Replace(string(cost4), "$04$", "$"+c+"$", 1) }
	tests := []struct {
		name, config, err string
	}{
		{"1000 iterations", pbkdf2Config(1000, salt8, "s"), ""},
		{"999 iterations", pbkdf2Config(999, salt8, "s"), "iterations must be from 1000 to 10000000"},
		{"10000000 iterations", strings.Replace(pbkdf2Config(1000, salt8, "s"), "$1000$", "$10000000$", 1), ""},
		{"10000001 iterations", strings.Replace(pbkdf2Config(1000, salt8, "s"), "$1000$", "$10000001$", 1), "iterations must be from 1000 to 10000000"},
		{"an 8-byte salt", pbkdf2Config(1000, salt8, "s"), ""},
		{"a 7-byte salt", pbkdf2Config(1000, salt7, "s"), "salt must be at least 8 bytes"},
		{"bcrypt cost 14", `{"providers":{"b":{"type":"passphrase","hashed_passphrase":"` + withCost("14") + `"}}}`, ""},
		{"bcrypt cost 15", `{"providers":{"b":{"type":"passphrase","hashed_passphrase":"` + withCost("15") + `"}}}`, "bcrypt cost 15 is above 14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(tt.config))
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

// TestBcryptTakesSeventyTwoBytesExactly: bcrypt reads at most 72 bytes, so
// a longer value is refused rather than truncated, and a value of exactly 72
// bytes is still checked.
func TestBcryptTakesSeventyTwoBytesExactly(t *testing.T) {
	secret := strings.Repeat("k", 72)
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), 4)
	if err != nil {
		t.Fatal(err)
	}
	g := compile(t, `{"providers":{"b":{"type":"passphrase","hashed_passphrase":"`+string(hash)+`"}}}`)
	if d := g.Decide(get("/", "authorization", "Bearer "+secret), now()); !d.Allow {
		t.Fatalf("the 72-byte passphrase was refused: %s", d.Reason)
	}
	if d := g.Decide(get("/", "authorization", "Bearer "+secret+"k"), now()); d.Allow {
		t.Fatal("a 73-byte value whose first 72 bytes are the passphrase was accepted")
	}
}

// TestHashBudgetAllowsExactlyTheBurst: at one instant, exactly hashBurst new
// values are hashed and the next one is told to retry.
func TestHashBudgetAllowsExactlyTheBurst(t *testing.T) {
	g := compile(t, pbkdf2Config(1000, []byte("01234567"), "the right passphrase"))
	at := now()
	for i := 0; i < hashBurst; i++ {
		d := g.Decide(get("/", "authorization", "Bearer wrong-"+strconv.Itoa(i)), at)
		if d.Status != 401 {
			t.Fatalf("value %d of the burst: status %d (%s), want a checked 401", i, d.Status, d.Reason)
		}
	}
	if d := g.Decide(get("/", "authorization", "Bearer wrong-over"), at); d.Status != 503 {
		t.Fatalf("value %d: status %d, want 503 once the burst is spent", hashBurst+1, d.Status)
	}
}

// TestRememberedOutcomesAreBounded: wrong values are remembered so a repeat
// costs no hash, but never more than maxSeen of them.
func TestRememberedOutcomesAreBounded(t *testing.T) {
	g := compile(t, pbkdf2Config(1000, []byte("01234567"), "the right passphrase"))
	pp := g.providers[0].passphrase
	at := now()
	for i := 0; i < maxSeen+5; i++ {
		at = at.Add(1e9) // a second per value keeps the budget topped up
		g.Decide(get("/", "authorization", "Bearer wrong-"+strconv.Itoa(i)), at)
		if len(pp.seen) > maxSeen {
			t.Fatalf("after %d values %d outcomes are remembered, more than %d", i+1, len(pp.seen), maxSeen)
		}
	}
}
