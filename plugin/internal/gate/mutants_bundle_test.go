package gate

import (
	"bytes"
	"crypto/ed25519"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/keybundle"
)

// TestBundlePinsUpToTheMaximumOfKeys: "public_keys" takes 1 to
// maxPinnedKeys distinct keys; the maximum itself is accepted.
func TestBundlePinsUpToTheMaximumOfKeys(t *testing.T) {
	var pinned []string
	for i := range maxPinnedKeys + 1 {
		key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(40 + i)}, 32))
		pinned = append(pinned, strconv.Quote(keybundle.NewPublicKey(key.Public().(ed25519.PublicKey)).String()))
	}
	config := func(n int) string {
		return `{"bundle":{"cluster":"jwksfetch","public_keys":[` + strings.Join(pinned[:n], ",") + `]},
		  "providers":{"corp":{"issuer":"` + corpURL + `"}}}`
	}
	tests := []struct {
		name string
		n    int
		err  string // a part of the error; "" when accepted
	}{
		{name: "one key", n: 1},
		{name: "one under the maximum", n: maxPinnedKeys - 1},
		{name: "exactly the maximum", n: maxPinnedKeys},
		{name: "one over the maximum", n: maxPinnedKeys + 1, err: "bundle.public_keys: must be an array of 1 to " + strconv.Itoa(maxPinnedKeys)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _, err := Compile([]byte(config(tt.n)))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Compile with %d pinned keys: %v", tt.n, err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("Compile with %d pinned keys = %v, want an error with %q", tt.n, err, tt.err)
			case tt.err == "" && !g.UsesBundles():
				t.Fatalf("Compile with %d pinned keys: no bundle source", tt.n)
			}
		})
	}
}

// TestBundlePollInFlightIsLostAtTwiceTheTimeout: with a poll interval
// shorter than twice the timeout, a poll still in flight holds the next one
// back until exactly twice timeout_ms after it was sent, not a nanosecond
// less; a poll that ended does not.
func TestBundlePollInFlightIsLostAtTwiceTheTimeout(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	cfg := `{"bundle":{"cluster":"jwksfetch","public_keys":["` + bundlePinned + `"],"poll_interval_seconds":1,"max_stale_seconds":60,"timeout_ms":1500},
	  "providers":{"corp":{"issuer":"` + corpURL + `"}}}`
	tests := []struct {
		name  string
		after time.Duration // since the first poll was sent
		ended bool          // the first poll ended before
		want  bool          // a poll is due
	}{
		{name: "past the interval, under the timeout", after: time.Second, want: false},
		{name: "at the timeout", after: timeout, want: false},
		{name: "a nanosecond under twice the timeout", after: 2*timeout - time.Nanosecond, want: false},
		{name: "exactly twice the timeout", after: 2 * timeout, want: true},
		{name: "past twice the timeout", after: 2*timeout + time.Millisecond, want: true},
		{name: "an ended poll, past the interval", after: time.Second, ended: true, want: true},
		{name: "an ended poll, under the interval", after: time.Second - time.Nanosecond, ended: true, want: false},
	}
	at := time.Unix(1_800_000_000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, cfg)
			if _, ok := g.PlanBundlePoll(at); !ok {
				t.Fatal("the first poll is not due at once")
			}
			if tt.ended {
				g.BundlePollEnded()
			}
			call, ok := g.PlanBundlePoll(at.Add(tt.after))
			if ok != tt.want {
				t.Fatalf("%v after the first poll (ended %v): poll due %v, want %v", tt.after, tt.ended, ok, tt.want)
			}
			if ok && call.TimeoutMillis != uint32(timeout/time.Millisecond) {
				t.Fatalf("the poll's timeout is %d ms, want %d", call.TimeoutMillis, timeout/time.Millisecond)
			}
		})
	}
}
