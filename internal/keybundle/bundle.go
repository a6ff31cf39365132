package keybundle

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/jsonstrict"
	"github.com/tokengate/tokengate/internal/jwk"
)

// Bundle is what a bundle says: the key set of every provider the fetcher
// has one for, the bundle's version and when it was issued.
type Bundle struct {
	// Version only grows: a reader keeps the version it holds and refuses
	// anything older (see RATIONALE.md for how the fetcher picks it).
	Version uint64
	// IssuedAt is when the fetcher signed the bundle, to the second.
	IssuedAt time.Time
	// KeyID names the key that signed it (PublicKey.ID); set by Verify.
	KeyID string
	// Providers are sorted by name, each name at most once.
	Providers []Provider
}

// Provider is one provider's key set in a bundle.
type Provider struct {
	Name   string
	Issuer string // the provider's configured "issuer", which the reader checks
	// JWKS is the RFC 7517 JWK Set as signed (after Verify, a slice of the
	// verified payload).
	JWKS []byte
	// Keys are the usable keys of JWKS and Warnings the keys skipped, read
	// by the plugin's strict key-set reader (internal/jwk); set by Verify.
	Keys     *jwk.Set
	Warnings []string
}

// Provider returns the entry named name, or nil.
func (b *Bundle) Provider(name string) *Provider {
	i := sort.Search(len(b.Providers), func(i int) bool { return b.Providers[i].Name >= name })
	if i < len(b.Providers) && b.Providers[i].Name == name {
		return &b.Providers[i]
	}
	return nil
}

const (
	// MediaType is the media type of a bundle, in Content-Type and Accept.
	MediaType = "application/tokengate-key-bundle+json"
	// Path is the default path of the fetcher's bundle endpoint (GET).
	Path = "/bundle"
	// MaxBytes bounds a bundle on the wire.
	MaxBytes = 4 << 20
	// MaxProviders bounds the providers of one bundle.
	MaxProviders = 1024
	// MaxFutureSkew is how far in the future a bundle's issued_at may be,
	// for clocks that disagree a little.
	MaxFutureSkew = time.Minute

	// signingContext is signed before the payload, so that a signature made
	// for a bundle can never be passed off as a signature over anything
	// else made with the same key, and a later format cannot be read as
	// this one.
	signingContext = "tokengate key bundle v1\x00"

	maxNameBytes = 256
	maxIssuer    = 2048
)

// Sign returns the bundle b signed with key: the envelope to serve, with a
// canonical payload (no insignificant white space, members in a fixed order,
// providers sorted by name), so that equal bundles are equal bytes. b.KeyID,
// and Keys and Warnings of the providers, are ignored. Each JWKS must be a
// JSON object that the strict reader accepts; it is written compact.
func Sign(b Bundle, key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("keybundle: the signing key is not an Ed25519 private key")
	}
	if b.Version == 0 {
		return nil, errors.New("keybundle: version must be at least 1")
	}
	if b.IssuedAt.Unix() < 1 {
		return nil, errors.New("keybundle: issued_at must be after 1970")
	}
	if len(b.Providers) > MaxProviders {
		return nil, errors.New("keybundle: more than " + strconv.Itoa(MaxProviders) + " providers")
	}
	provs := append([]Provider(nil), b.Providers...)
	sort.Slice(provs, func(i, j int) bool { return provs[i].Name < provs[j].Name })

	p := make([]byte, 0, 256)
	p = append(p, `{"version":`...)
	p = strconv.AppendUint(p, b.Version, 10)
	p = append(p, `,"issued_at":`...)
	p = strconv.AppendInt(p, b.IssuedAt.Unix(), 10)
	p = append(p, `,"providers":{`...)
	for i, pr := range provs {
		if i > 0 && provs[i-1].Name == pr.Name {
			return nil, errors.New("keybundle: provider " + strconv.Quote(pr.Name) + " is given twice")
		}
		if err := checkName(pr.Name); err != nil {
			return nil, err
		}
		if pr.Issuer == "" || len(pr.Issuer) > maxIssuer || !utf8.ValidString(pr.Issuer) {
			return nil, errors.New("keybundle: provider " + strconv.Quote(pr.Name) + ": the issuer must be non-empty UTF-8 of at most " + strconv.Itoa(maxIssuer) + " bytes")
		}
		if err := jsonstrict.Check(pr.JWKS); err != nil {
			return nil, errors.New("keybundle: provider " + strconv.Quote(pr.Name) + ": the key set is not JSON the strict reader accepts: " + err.Error())
		}
		set := gjson.ParseBytes(pr.JWKS)
		if !set.IsObject() {
			return nil, errors.New("keybundle: provider " + strconv.Quote(pr.Name) + ": the key set is not a JSON object")
		}
		if i > 0 {
			p = append(p, ',')
		}
		p = appendString(p, pr.Name)
		p = append(p, `:{"issuer":`...)
		p = appendString(p, pr.Issuer)
		p = append(p, `,"jwks":`...)
		p = append(p, set.Get("@ugly").Raw...)
		p = append(p, '}')
	}
	p = append(p, "}}"...)

	sig := ed25519.Sign(key, signedMessage(p))
	pub := key.Public().(ed25519.PublicKey)
	out := make([]byte, 0, len(p)*4/3+180)
	out = append(out, `{"key_id":"`...)
	out = append(out, keyID(pub)...)
	out = append(out, `","payload":"`...)
	out = base64.RawURLEncoding.AppendEncode(out, p)
	out = append(out, `","signature":"`...)
	out = base64.RawURLEncoding.AppendEncode(out, sig)
	out = append(out, `"}`...)
	if len(out) > MaxBytes {
		return nil, errors.New("keybundle: the bundle has " + strconv.Itoa(len(out)) + " bytes; at most " + strconv.Itoa(MaxBytes) + " are accepted")
	}
	return out, nil
}

// signedMessage is what the signature covers: the context, then the
// payload exactly as it travels.
func signedMessage(payload []byte) []byte {
	m := make([]byte, 0, len(signingContext)+len(payload))
	m = append(m, signingContext...)
	return append(m, payload...)
}

func checkName(name string) error {
	if name == "" || len(name) > maxNameBytes || !utf8.ValidString(name) {
		return errors.New("keybundle: provider names must be non-empty UTF-8 of at most " + strconv.Itoa(maxNameBytes) + " bytes")
	}
	return nil
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, everything else (valid UTF-8) as it is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
