package session

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/internal/jwk"
)

// Key is one cookie key: the id written in front of every value it seals,
// and its secret of KeySize bytes.
type Key struct {
	ID     string
	Secret []byte
}

const (
	// KeySize is the length of a key's secret: AES-256.
	KeySize = 32
	// MaxKeyID bounds a key id; ids are letters, digits, "-" and "_".
	MaxKeyID = 32
	// MaxCookieBytes bounds one cookie's name, "=" and value. Browsers keep
	// cookies of up to 4096 bytes; the rest is left for the attributes of
	// the Set-Cookie line.
	MaxCookieBytes = 4000
	// MaxChunks is how many cookies one value may be split over: about
	// 19,800 bytes of sealed value, far more than three tokens of any
	// provider; a value larger than that is refused rather than sent to
	// browsers and proxies that would drop it.
	MaxChunks = 5

	nonceSize = 12
	tagSize   = 16
	version   = "v1."
)

// Errors of Open and Read. Each is returned as it is, so callers compare
// with ==, and says what was wrong with the cookie, never what it held.
var (
	ErrMalformed  = errors.New("the cookie is malformed")
	ErrUnknownKey = errors.New("the cookie was sealed with a key the configuration no longer has")
	ErrTampered   = errors.New("the cookie failed authentication: it was altered, or sealed for another purpose or cookie name")
	ErrExpired    = errors.New("the cookie has expired")
	ErrDuplicate  = errors.New("the cookie is given more than once")
	ErrTooLarge   = errors.New("the value does not fit in " + strconv.Itoa(MaxChunks) + " cookies")
	ErrRandom     = errors.New("no randomness available (WASI random_get failed)")
)

// Codec seals values into the cookies of one name and opens them again.
// It is immutable after NewCodec and safe for concurrent use.
type Codec struct {
	name   string
	keys   []sealer // the first seals
	random func([]byte) error
}

type sealer struct {
	id   string
	aead cipher.AEAD
}

// Option sets up a Codec.
type Option func(*Codec)

// WithRandom makes the Codec draw its nonces from read, which fills its
// argument or returns an error. The default is SystemRandom.
func WithRandom(read func([]byte) error) Option { return func(c *Codec) { c.random = read } }

// NewCodec returns a Codec for the cookie name, sealing with the first of
// keys and opening with any of them. Names are RFC 6265 tokens of at most
// 64 bytes; key ids are unique, 1 to MaxKeyID letters, digits, "-" or "_";
// secrets are KeySize bytes.
func NewCodec(name string, keys []Key, opts ...Option) (*Codec, error) {
	if name == "" || len(name) > 64 || !cookieName(name) {
		return nil, errors.New("cookie name " + strconv.Quote(name) + " must be 1 to 64 characters of an RFC 6265 cookie name (letters, digits and !#$%&'*+-.^_`|~)")
	}
	if len(keys) == 0 {
		return nil, errors.New("at least one key is needed")
	}
	c := &Codec{name: name, random: SystemRandom}
	for i, k := range keys {
		if !KeyID(k.ID) {
			return nil, errors.New("key " + strconv.Itoa(i) + ": id " + strconv.Quote(k.ID) + " must be 1 to " + strconv.Itoa(MaxKeyID) + " letters, digits, \"-\" or \"_\"")
		}
		if len(k.Secret) != KeySize {
			return nil, errors.New("key " + strconv.Quote(k.ID) + ": the secret must be " + strconv.Itoa(KeySize) + " bytes, not " + strconv.Itoa(len(k.Secret)))
		}
		for _, s := range c.keys {
			if s.id == k.ID {
				return nil, errors.New("key id " + strconv.Quote(k.ID) + " is given twice")
			}
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.keys = append(c.keys, sealer{id: k.ID, aead: aead})
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Name is the cookie name the Codec reads and writes (its first chunk's).
func (c *Codec) Name() string { return c.name }

// KeyID reports whether id is a valid key id.
func KeyID(id string) bool {
	if id == "" || len(id) > MaxKeyID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if ch := id[i]; !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// aad is what a sealed value is bound to besides its key: the format, the
// purpose, the cookie name and the key id.
func (c *Codec) aad(purpose, kid string) []byte {
	b := make([]byte, 0, 16+len(purpose)+len(c.name)+len(kid))
	b = append(b, "tokengate-cookie-v1\x00"...)
	b = append(b, purpose...)
	b = append(b, 0)
	b = append(b, c.name...)
	b = append(b, 0)
	b = append(b, kid...)
	return b
}

// Seal encrypts and authenticates plaintext for purpose, to be opened until
// expires. The result is "v1.<key id>.<base64url of nonce and ciphertext>".
func (c *Codec) Seal(purpose string, plaintext []byte, expires time.Time) (string, error) {
	k := c.keys[0]
	nonce := make([]byte, nonceSize, nonceSize+8+len(plaintext)+tagSize)
	if err := c.random(nonce); err != nil {
		return "", ErrRandom
	}
	msg := make([]byte, 8, 8+len(plaintext))
	binary.BigEndian.PutUint64(msg, uint64(expires.Unix()))
	msg = append(msg, plaintext...)
	out := k.aead.Seal(nonce, nonce, msg, c.aad(purpose, k.id))
	return version + k.id + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// maxSealed bounds what Open reads: what Read can gather.
const maxSealed = MaxChunks * MaxCookieBytes

// Open checks and decrypts a value Seal made for purpose and returns the
// plaintext. It fails with ErrMalformed, ErrUnknownKey, ErrTampered or
// ErrExpired (at or after its expiry, by now).
func (c *Codec) Open(purpose, sealed string, now time.Time) ([]byte, error) {
	if len(sealed) > maxSealed {
		return nil, ErrMalformed
	}
	rest, ok := strings.CutPrefix(sealed, version)
	if !ok {
		return nil, ErrMalformed
	}
	kid, data, ok := strings.Cut(rest, ".")
	if !ok || !KeyID(kid) {
		return nil, ErrMalformed
	}
	var k *sealer
	for i := range c.keys {
		if c.keys[i].id == kid {
			k = &c.keys[i]
			break
		}
	}
	// jwk.DecodeSegment checks the alphabet first: Go's decoder skips line
	// breaks, which would make other spellings of a value Seal made.
	raw, err := jwk.DecodeSegment(data)
	if err != nil || len(raw) < nonceSize+8+tagSize {
		return nil, ErrMalformed
	}
	if k == nil {
		return nil, ErrUnknownKey
	}
	msg, err := k.aead.Open(nil, raw[:nonceSize], raw[nonceSize:], c.aad(purpose, kid))
	if err != nil {
		return nil, ErrTampered
	}
	if now.Unix() >= int64(binary.BigEndian.Uint64(msg)) {
		return nil, ErrExpired
	}
	return msg[8:], nil
}

// Cookie is one cookie to set: a name and its value.
type Cookie struct {
	Name, Value string
}

// chunkName is the name of the i-th cookie of a value: the Codec's name,
// then name-1, name-2...
func (c *Codec) chunkName(i int) string {
	if i == 0 {
		return c.name
	}
	return c.name + "-" + strconv.Itoa(i)
}

// Chunks splits a sealed value over as few cookies as hold it, each at most
// MaxCookieBytes of name and value. The first cookie's value starts with
// the number of cookies and a dot, so that Read takes exactly those and
// ignores a stale chunk a longer value left behind.
func (c *Codec) Chunks(sealed string) ([]Cookie, error) {
	room := MaxCookieBytes - len(c.name) - len("-9=") - len("9.")
	n := (len(sealed) + room - 1) / room
	if n == 0 {
		n = 1
	}
	if n > MaxChunks {
		return nil, ErrTooLarge
	}
	out := make([]Cookie, n)
	for i := range out {
		piece := sealed[min(i*room, len(sealed)):min((i+1)*room, len(sealed))]
		if i == 0 {
			piece = strconv.Itoa(n) + "." + piece
		}
		out[i] = Cookie{Name: c.chunkName(i), Value: piece}
	}
	return out, nil
}

// Owns reports whether a cookie of this name belongs to the Codec: its
// name or one of its chunk names.
func (c *Codec) Owns(name string) bool {
	rest, ok := strings.CutPrefix(name, c.name)
	if !ok {
		return false
	}
	return rest == "" || len(rest) == 2 && rest[0] == '-' && '1' <= rest[1] && rest[1] < '0'+MaxChunks
}

// Read gathers the Codec's value from the values of a request's Cookie
// headers. present is false when the request holds no cookie of the
// Codec's name (stale chunks alone do not count). A cookie of the Codec
// given twice is ErrDuplicate; a first chunk that does not say how many
// follow, or a missing chunk, is ErrMalformed.
func (c *Codec) Read(cookieHeaders []string) (sealed string, present bool, err error) {
	var parts [MaxChunks]string
	var seen [MaxChunks]bool
	for _, h := range cookieHeaders {
		for h != "" {
			var pair string
			pair, h, _ = strings.Cut(h, ";")
			name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if !c.Owns(name) {
				continue
			}
			i := 0
			if name != c.name {
				i = int(name[len(name)-1] - '0')
			}
			if seen[i] {
				return "", true, ErrDuplicate
			}
			seen[i], parts[i] = true, value
		}
	}
	if !seen[0] {
		return "", false, nil
	}
	count, first, ok := strings.Cut(parts[0], ".")
	if !ok || len(count) != 1 || count[0] < '1' || count[0] > '0'+MaxChunks {
		return "", true, ErrMalformed
	}
	n := int(count[0] - '0')
	size := len(first)
	for i := 1; i < n; i++ {
		if !seen[i] {
			return "", true, ErrMalformed
		}
		size += len(parts[i])
	}
	if size > maxSealed {
		return "", true, ErrMalformed
	}
	if n == 1 {
		return first, true, nil
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(first)
	for i := 1; i < n; i++ {
		b.WriteString(parts[i])
	}
	return b.String(), true, nil
}

// Present returns the names of the Codec's cookies in the values of a
// request's Cookie headers, chunks included, each once: what a response
// clears.
func (c *Codec) Present(cookieHeaders []string) []string {
	var out []string
	for _, h := range cookieHeaders {
		for h != "" {
			var pair string
			pair, h, _ = strings.Cut(h, ";")
			name, _, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if c.Owns(name) && !contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SetCookie renders the Set-Cookie header value that stores ck for maxAge
// seconds: on the whole origin (Path=/, no Domain), over HTTPS only
// (Secure), out of reach of scripts (HttpOnly), and sent on top-level
// navigations from other sites but not on their subrequests (SameSite=Lax:
// the provider's redirect back is such a navigation).
func SetCookie(ck Cookie, maxAge int) string {
	if maxAge < 0 {
		maxAge = 0
	}
	return ck.Name + "=" + ck.Value + "; Path=/; Max-Age=" + strconv.Itoa(maxAge) + "; HttpOnly; Secure; SameSite=Lax"
}

// ClearCookie renders the Set-Cookie header value that removes the cookie
// name (with the attributes SetCookie gave it).
func ClearCookie(name string) string { return SetCookie(Cookie{Name: name}, 0) }

// Strip returns a Cookie header value without the cookies the codecs own,
// and whether it removed any. The other cookies keep their order and are
// joined with "; "; a header left with none is "".
func Strip(header string, codecs ...*Codec) (string, bool) {
	owned := false
	for h := header; h != "" && !owned; {
		var pair string
		pair, h, _ = strings.Cut(h, ";")
		name, _, _ := strings.Cut(strings.TrimSpace(pair), "=")
		for _, c := range codecs {
			if c.Owns(name) {
				owned = true
				break
			}
		}
	}
	if !owned {
		return header, false
	}
	var b strings.Builder
	for h := header; h != ""; {
		var pair string
		pair, h, _ = strings.Cut(h, ";")
		pair = strings.TrimSpace(pair)
		name, _, _ := strings.Cut(pair, "=")
		keep := pair != ""
		for _, c := range codecs {
			if c.Owns(name) {
				keep = false
				break
			}
		}
		if keep {
			if b.Len() > 0 {
				b.WriteString("; ")
			}
			b.WriteString(pair)
		}
	}
	return b.String(), true
}

// cookieName reports whether s is an RFC 6265 cookie name (an RFC 7230
// token).
func cookieName(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0) {
			return false
		}
	}
	return true
}
