package gate

import (
	"crypto/sha256"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIntrospectionTakesOpaqueTokensOfUpTo16KiB: an opaque token of exactly
// maxTokenBytes goes to the endpoint and is accepted on its answer; one byte
// more is refused as malformed without a call.
func TestIntrospectionTakesOpaqueTokensOfUpTo16KiB(t *testing.T) {
	t0 := time.Now()
	tests := []struct {
		name string
		size int
		code string // the refusal's code; "" when the answer lets the request through
	}{
		{name: "one byte under the limit", size: maxTokenBytes - 1},
		{name: "exactly the limit", size: maxTokenBytes},
		{name: "one byte over the limit", size: maxTokenBytes + 1, code: "token_malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compile(t, introspectCfg("", "", ""))
			req := get("/", bearer(strings.Repeat("a", tt.size))...)
			if tt.code != "" {
				d := g.Decide(req, t0)
				if d.Allow || d.Introspect != nil || d.Code != tt.code {
					t.Fatalf("a token of %d bytes: allow %v, introspect %v, code %q; want refused with %q and no call", tt.size, d.Allow, d.Introspect != nil, d.Code, tt.code)
				}
				return
			}
			if d := introspectOnce(t, g, req, t0, jsonAnswer(activeAnswer(t0))); !d.Allow {
				t.Fatalf("a token of %d bytes: %d %s", tt.size, d.Status, d.Reason)
			}
		})
	}
}

// TestIntrospectionAnswersOfUpTo64KiB: readIntrospection takes a body of 1
// to maxAnswerBytes bytes, the limit itself included.
func TestIntrospectionAnswersOfUpTo64KiB(t *testing.T) {
	body := func(n int) []byte {
		const head, tail = `{"active":true,"pad":"`, `"}`
		return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
	}
	tests := []struct {
		name string
		size int
		err  string // the whole error; "" when read
	}{
		{name: "one byte under the limit", size: maxAnswerBytes - 1},
		{name: "exactly the limit", size: maxAnswerBytes},
		{name: "one byte over the limit", size: maxAnswerBytes + 1,
			err: "the answer's body has " + strconv.Itoa(maxAnswerBytes+1) + " bytes, want 1 to " + strconv.Itoa(maxAnswerBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body(tt.size)
			if len(b) != tt.size {
				t.Fatalf("built a body of %d bytes, want %d", len(b), tt.size)
			}
			claims, active, err := readIntrospection("200", "application/json", b)
			switch {
			case tt.err == "" && (err != nil || !active || len(claims.Raw) != tt.size):
				t.Fatalf("a body of %d bytes: active %v, %d bytes read, error %v", tt.size, active, len(claims.Raw), err)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Fatalf("a body of %d bytes: error %v, want %q", tt.size, err, tt.err)
			}
		})
	}
}

// TestAnswerCacheHoldsExactlyItsByteBound: answers whose bodies add up to
// exactly maxAnswerCacheBytes all stay; a byte more evicts the least
// recently used.
func TestAnswerCacheHoldsExactlyItsByteBound(t *testing.T) {
	const n = maxAnswerCacheBytes / maxAnswerBytes // answers of the largest size that fit
	hash := func(i int) tokenHash { return tokenHash(sha256.Sum256([]byte(strconv.Itoa(i)))) }
	tests := []struct {
		name    string
		last    int  // the size of the last answer put
		evicted bool // the first answer is gone
	}{
		{name: "the bound exactly", last: maxAnswerBytes},
		{name: "one byte under the bound", last: maxAnswerBytes - 1},
		{name: "one byte over the bound", last: maxAnswerBytes + 1, evicted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newAnswerCache(10 * n)
			for i := 0; i < n-1; i++ {
				c.put(&answer{hash: hash(i), size: maxAnswerBytes, until: 100})
			}
			c.put(&answer{hash: hash(n - 1), size: tt.last, until: 100})
			want := (n-1)*maxAnswerBytes + tt.last
			if tt.evicted {
				want -= maxAnswerBytes
			}
			if c.bytes != want {
				t.Fatalf("%d bytes cached, want %d", c.bytes, want)
			}
			if gone := c.get(hash(0), 0) == nil; gone != tt.evicted {
				t.Fatalf("the first answer evicted: %v, want %v", gone, tt.evicted)
			}
			if c.get(hash(1), 0) == nil || c.get(hash(n-1), 0) == nil {
				t.Fatal("an answer that fits was evicted")
			}
		})
	}
}
