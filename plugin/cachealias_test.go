//go:build !wasip1

package main

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/testhost"
)

// TestACachedTokenNeverVouchesForAnother is the regression test for a
// fail-open the allocation work can introduce: request headers are read as
// views into memory the host reuses, so a token kept in the verified-token
// cache without copying it changes under the cache when the next request's
// headers arrive, and a different token of the same length then finds the
// first one's entry. Every tampered token must be refused even right after
// the valid one was cached, and the valid one must stay accepted.
func TestACachedTokenNeverVouchesForAnother(t *testing.T) {
	idp := newIssuer(t)
	th := testhost.New(t, config(t, idp))
	valid := token(t, idp, nil)
	flip := func(tok string, i int) string {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	dot := strings.LastIndexByte(valid, '.')
	forged := []string{
		flip(valid, len(valid)-2),       // the signature
		flip(valid, dot+1),              // the signature's first byte
		flip(valid, dot-2),              // the payload
		flip(valid, 10),                 // the header
		strings.Repeat("A", len(valid)), // same length, nothing alike
	}
	do := func(tok string) testhost.Response {
		return th.Do(t, testhost.Request{Path: "/v1/score", Headers: [][2]string{{"authorization", "Bearer " + tok}}})
	}
	for round := 0; round < 3; round++ {
		for i, f := range forged {
			if r := do(valid); !r.Continued {
				t.Fatalf("round %d: the valid token was refused with %d", round, r.Status)
			}
			if r := do(f); r.Continued || r.Status != 401 {
				t.Fatalf("round %d: forged token %d went upstream (continued=%v, status %d) right after the valid one was cached",
					round, i, r.Continued, r.Status)
			}
		}
	}
}
