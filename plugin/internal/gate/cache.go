package gate

import "github.com/tidwall/gjson"

// cache remembers tokens whose signature and static claims have been
// verified, so that a client reusing its token (the common case) costs a map
// lookup instead of a signature check. It is a bounded LRU keyed by the exact
// token; time claims are re-checked on every hit and an entry never outlives
// its token's exp.
type cache struct {
	max     int
	entries map[string]*entry
	head    entry // sentinel of the recency list: head.next is the newest
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
	c := &cache{max: max, entries: make(map[string]*entry)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

func (c *cache) get(token string) *entry {
	if c.max == 0 {
		return nil
	}
	e := c.entries[token]
	if e == nil {
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
	if e := c.entries[token]; e != nil {
		c.remove(e)
	}
	for len(c.entries) >= c.max {
		c.remove(c.head.prev)
	}
	e := &entry{token: token, provider: p, claims: claims, times: t, headers: headers, values: values}
	c.entries[token] = e
	c.pushFront(e)
}

func (c *cache) remove(e *entry) {
	c.unlink(e)
	delete(c.entries, e.token)
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
