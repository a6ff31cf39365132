package jsonstrict

import (
	"errors"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects Check accepts by
// default. Real key sets, tokens and configurations nest a few levels.
const MaxDepth = 32

// The classes of failure; an *Error wraps one of them.
var (
	ErrSyntax    = errors.New("not valid JSON")
	ErrEncoding  = errors.New("not valid UTF-8")
	ErrDepth     = errors.New("nested too deeply")
	ErrDuplicate = errors.New("a member name appears twice")
)

// Error says where a document failed: the byte offset, and for a duplicate
// the dotted path of the member (for example "providers.corp.issuer").
type Error struct {
	Offset int
	Path   string // set for ErrDuplicate and ErrDepth
	Err    error  // one of ErrSyntax, ErrEncoding, ErrDepth, ErrDuplicate
}

func (e *Error) Error() string {
	switch e.Err {
	case ErrDuplicate:
		return "member " + strconv.Quote(e.Path) + " appears twice; remove one of them"
	case ErrDepth:
		return "JSON nests arrays and objects more than " + strconv.Itoa(MaxDepth) + " levels deep (at offset " + strconv.Itoa(e.Offset) + ")"
	}
	return e.Err.Error() + " at offset " + strconv.Itoa(e.Offset)
}

func (e *Error) Unwrap() error { return e.Err }

// span is a member name: the raw bytes between its quotes, and whether they
// hold an escape (then names are compared decoded).
type span struct {
	start, end int
	escaped    bool
}

type frame struct {
	object bool
	n      int // an array's current element index
	keys   int // index in checker.keys of this object's first name
	big    map[string]struct{}
}

type checker struct {
	b       []byte
	i       int
	stack   []frame
	keys    []span
	scratch [2][]byte
}

// Check validates b with the default depth limit.
func Check(b []byte) error { return CheckDepth(b, MaxDepth) }

// CheckDepth validates b: one JSON value with optional white space around
// it, nested at most max levels. It returns nil or an *Error.
func CheckDepth(b []byte, max int) error {
	p := checkers.Get().(*pooled)
	err := p.check(b, max)
	checkers.Put(p)
	return err
}

// checkers recycles checkers with their arrays: a checker is a few KB, and
// a verifier checks the JSON of every new token. (On the stack they would
// not stay: the checker's methods append to its slices through a pointer,
// which moves the arrays to the heap on every call.)
var checkers = sync.Pool{New: func() any { return new(pooled) }}

// pooled is a checker with the arrays its stack and names start in.
type pooled struct {
	checker
	stack [MaxDepth + 1]frame
	keys  [64]span
}

// maxKeptScratch bounds the decoding buffers a pooled checker keeps.
const maxKeptScratch = 4 << 10

// check runs the checker on b, then lets go of b, of the member sets and of
// any decoding buffer over maxKeptScratch: a pooled checker keeps nothing of
// the document it checked, and stays small.
func (p *pooled) check(b []byte, max int) error {
	p.checker = checker{b: b, stack: p.stack[:0], keys: p.keys[:0], scratch: p.scratch}
	err := p.run(max)
	clear(p.stack[:])
	p.checker = checker{scratch: p.scratch}
	for i, s := range p.scratch {
		if cap(s) > maxKeptScratch {
			p.scratch[i] = nil
		}
	}
	return err
}

// Valid reports whether Check accepts b.
func Valid(b []byte) bool { return Check(b) == nil }

func (c *checker) fail(err error) *Error { return &Error{Offset: c.i, Err: err} }

func (c *checker) ws() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *checker) run(max int) error {
	// The grammar as a loop: expect a value, then a separator or a close.
	for {
		c.ws()
		if c.i >= len(c.b) {
			return c.fail(ErrSyntax)
		}
		switch ch := c.b[c.i]; {
		case ch == '{' || ch == '[':
			if len(c.stack) >= max {
				e := c.fail(ErrDepth)
				e.Path = c.path()
				return e
			}
			c.i++
			c.stack = append(c.stack, frame{object: ch == '{', keys: len(c.keys)})
			c.ws()
			if c.i < len(c.b) && (c.b[c.i] == '}' && ch == '{' || c.b[c.i] == ']' && ch == '[') {
				c.i++
				c.pop()
				goto after
			}
			if ch == '{' {
				if err := c.member(); err != nil {
					return err
				}
			}
			continue
		case ch == '"':
			if _, err := c.str(); err != nil {
				return err
			}
		case ch == '-' || '0' <= ch && ch <= '9':
			if err := c.number(); err != nil {
				return err
			}
		default:
			if err := c.literal(); err != nil {
				return err
			}
		}
	after:
		// After a value: close containers, or a comma and the next value.
		for {
			c.ws()
			if len(c.stack) == 0 {
				if c.i != len(c.b) {
					return c.fail(ErrSyntax)
				}
				return nil
			}
			if c.i >= len(c.b) {
				return c.fail(ErrSyntax)
			}
			top := &c.stack[len(c.stack)-1]
			ch := c.b[c.i]
			switch {
			case ch == ',':
				c.i++
				top.n++
				if top.object {
					c.ws()
					if err := c.member(); err != nil {
						return err
					}
				}
			case ch == '}' && top.object, ch == ']' && !top.object:
				c.i++
				c.pop()
				continue
			default:
				return c.fail(ErrSyntax)
			}
			break
		}
	}
}

func (c *checker) pop() {
	top := c.stack[len(c.stack)-1]
	c.keys = c.keys[:top.keys]
	c.stack = c.stack[:len(c.stack)-1]
}

// member reads `"name" :` and records the name, refusing a repeat.
func (c *checker) member() error {
	if c.i >= len(c.b) || c.b[c.i] != '"' {
		return c.fail(ErrSyntax)
	}
	s, err := c.str()
	if err != nil {
		return err
	}
	top := &c.stack[len(c.stack)-1]
	names := c.keys[top.keys:]
	const linear = 16
	switch {
	case top.big != nil:
		k := string(c.decode(0, s))
		if _, dup := top.big[k]; dup {
			return c.dup(s)
		}
		top.big[k] = struct{}{}
	default:
		for _, o := range names {
			if c.equal(o, s) {
				return c.dup(s)
			}
		}
		if len(names) == linear {
			// Many members: a set from here on keeps the check linear.
			top.big = make(map[string]struct{}, 2*linear)
			for _, o := range names {
				top.big[string(c.decode(0, o))] = struct{}{}
			}
			top.big[string(c.decode(0, s))] = struct{}{}
		}
	}
	c.keys = append(c.keys, s)
	c.ws()
	if c.i >= len(c.b) || c.b[c.i] != ':' {
		return c.fail(ErrSyntax)
	}
	c.i++
	return nil
}

func (c *checker) dup(s span) error {
	c.keys = append(c.keys, s)
	return &Error{Offset: s.start - 1, Path: c.path(), Err: ErrDuplicate}
}

// path names the member being read, for error messages: the newest name of
// each open object and the index in each open array ("keys[1].n").
func (c *checker) path() string {
	var p []byte
	for d, f := range c.stack {
		if !f.object {
			p = append(p, '[')
			p = strconv.AppendInt(p, int64(f.n), 10)
			p = append(p, ']')
			continue
		}
		end := len(c.keys)
		if d+1 < len(c.stack) {
			end = c.stack[d+1].keys
		}
		if end <= f.keys {
			continue
		}
		if len(p) > 0 {
			p = append(p, '.')
		}
		p = append(p, c.decode(1, c.keys[end-1])...)
	}
	return string(p)
}

func (c *checker) equal(a, b span) bool {
	if !a.escaped && !b.escaped {
		return string(c.b[a.start:a.end]) == string(c.b[b.start:b.end])
	}
	return string(c.decode(0, a)) == string(c.decode(1, b))
}

// decode unescapes a checked string into scratch buffer n.
func (c *checker) decode(n int, s span) []byte {
	raw := c.b[s.start:s.end]
	if !s.escaped {
		return raw
	}
	out := c.scratch[n][:0]
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			out = append(out, raw[i])
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(raw[i+1:])
			i += 4
			if utf16.IsSurrogate(r) {
				r = utf16.DecodeRune(r, hex4(raw[i+3:]))
				i += 6
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, raw[i])
		}
	}
	c.scratch[n] = out
	return out
}

// str reads a string starting at its opening quote.
func (c *checker) str() (span, error) {
	c.i++
	s := span{start: c.i}
	for c.i < len(c.b) {
		ch := c.b[c.i]
		switch {
		case ch == '"':
			s.end = c.i
			c.i++
			return s, nil
		case ch < 0x20:
			return s, c.fail(ErrSyntax)
		case ch == '\\':
			s.escaped = true
			if err := c.escape(); err != nil {
				return s, err
			}
		case ch < utf8.RuneSelf:
			c.i++
		default:
			r, n := utf8.DecodeRune(c.b[c.i:])
			if r == utf8.RuneError && n == 1 {
				return s, c.fail(ErrEncoding)
			}
			c.i += n
		}
	}
	return s, c.fail(ErrSyntax)
}

// escape checks one escape sequence at c.i (the backslash); a \u escape of a
// surrogate must be a high surrogate followed by a low one.
func (c *checker) escape() error {
	if c.i+1 >= len(c.b) {
		return c.fail(ErrSyntax)
	}
	switch c.b[c.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		c.i += 2
		return nil
	case 'u':
	default:
		return c.fail(ErrSyntax)
	}
	r, ok := c.u4(c.i + 2)
	if !ok {
		return c.fail(ErrSyntax)
	}
	c.i += 6
	if !utf16.IsSurrogate(r) {
		return nil
	}
	if r >= 0xdc00 || c.i+1 >= len(c.b) || c.b[c.i] != '\\' || c.b[c.i+1] != 'u' {
		return c.fail(ErrEncoding) // a lone or misordered surrogate
	}
	lo, ok := c.u4(c.i + 2)
	if !ok {
		return c.fail(ErrSyntax)
	}
	if lo < 0xdc00 || lo > 0xdfff {
		return c.fail(ErrEncoding)
	}
	c.i += 6
	return nil
}

func (c *checker) u4(at int) (rune, bool) {
	if at+4 > len(c.b) {
		return 0, false
	}
	var r rune
	for _, h := range c.b[at : at+4] {
		v, ok := unhex(h)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

func hex4(b []byte) rune {
	var r rune
	for _, h := range b[:4] {
		v, _ := unhex(h)
		r = r<<4 | rune(v)
	}
	return r
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (c *checker) number() error {
	if c.b[c.i] == '-' {
		c.i++
	}
	switch {
	case c.i < len(c.b) && c.b[c.i] == '0':
		c.i++
	case c.digits() == 0:
		return c.fail(ErrSyntax)
	}
	if c.i < len(c.b) && c.b[c.i] == '.' {
		c.i++
		if c.digits() == 0 {
			return c.fail(ErrSyntax)
		}
	}
	if c.i < len(c.b) && (c.b[c.i] == 'e' || c.b[c.i] == 'E') {
		c.i++
		if c.i < len(c.b) && (c.b[c.i] == '+' || c.b[c.i] == '-') {
			c.i++
		}
		if c.digits() == 0 {
			return c.fail(ErrSyntax)
		}
	}
	return nil
}

func (c *checker) digits() int {
	n := 0
	for c.i < len(c.b) && '0' <= c.b[c.i] && c.b[c.i] <= '9' {
		c.i++
		n++
	}
	return n
}

func (c *checker) literal() error {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(c.b)-c.i >= len(lit) && string(c.b[c.i:c.i+len(lit)]) == lit {
			c.i += len(lit)
			return nil
		}
	}
	return c.fail(ErrSyntax)
}
