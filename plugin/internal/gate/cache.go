package gate

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// cache remembers tokens whose signature and static claims have been
// verified, so that a client reusing its token (the common case) costs a map
// lookup instead of a signature check. It is a bounded LRU of exact tokens;
// time claims are re-checked on every hit and an entry never outlives its
// token's exp.
//
// The map is keyed by the token's length and last 32 bytes (inside the
// signature, so as good as random), not by the token: a 700-byte string key
// is hashed and compared byte by byte in Wasm, 32 bytes are hashed in a few
// words. A hit is then confirmed by comparing the whole token, 8 bytes at a
// time. Two tokens with one key (a forged token ending like a cached one) do
// not match; the newer replaces the older, which costs the older a signature
// check, as any eviction does.
type cache struct {
	max     int
	entries map[cacheKey]*entry
	head    entry // sentinel of the recency list: head.next is the newest
}

type cacheKey struct {
	n    int
	tail [32]byte
}

func keyOf(token string) cacheKey {
	k := cacheKey{n: len(token)}
	copy(k.tail[:], token[max(0, len(token)-len(k.tail)):])
	return k
}

// sameToken reports whether a and b are equal, comparing 8 bytes at a time
// (the runtime's string comparison in Wasm compares one byte at a time).
func sameToken(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	pa, pb := unsafe.Pointer(unsafe.StringData(a)), unsafe.Pointer(unsafe.StringData(b))
	i := 0
	for ; i+8 <= len(a); i += 8 {
		if *(*uint64)(unsafe.Add(pa, i)) != *(*uint64)(unsafe.Add(pb, i)) {
			return false
		}
	}
	for ; i < len(a); i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type entry struct {
	token      string
	provider   *provider
	claims     gjson.Result
	times      times          // read once, checked on every hit
	headers    [][2]string    // the upstream headers the token sets, rendered once
	values     []gjson.Result // the claims at the gate's claim paths, read once
	prev, next *entry
}

func newCache(max int) *cache {
	c := &cache{max: max, entries: make(map[cacheKey]*entry)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *cache) get(token string) *entry {
	if c.max == 0 {
		return nil
	}
	e := c.entries[keyOf(token)]
	if e == nil || !sameToken(e.token, token) {
		return nil
	}
	c.unlink(e)
	c.pushFront(e)
	return e
}

func (c *cache) put(token string, p *provider, claims gjson.Result, t times, headers [][2]string, values []gjson.Result) {
	if c.max == 0 {
		return
	}
	k := keyOf(token)
	if e := c.entries[k]; e != nil {
		c.remove(e)
	}
	for len(c.entries) >= c.max {
		c.remove(c.head.prev)
	}
	e := &entry{token: token, provider: p, claims: claims, times: t, headers: headers, values: values}
	c.entries[k] = e
	c.pushFront(e)
}

func (c *cache) remove(e *entry) {
	c.unlink(e)
	delete(c.entries, keyOf(e.token))
}

func (c *cache) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (c *cache) pushFront(e *entry) {
	e.prev = &c.head
	e.next = c.head.next
	c.head.next.prev = e
	c.head.next = e
}

func (c *cache) len() int { return len(c.entries) }
