package keybundle

import (
	"crypto/ed25519"
	"errors"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/tokengate/tokengate/internal/jsonstrict"
	"github.com/tokengate/tokengate/internal/jwk"
)

// The ways Verify refuses a bundle; the error it returns wraps one of them
// (errors.Is), and Reason names it for metrics.
var (
	// ErrMalformed: not a bundle (bad JSON, a missing or unknown member,
	// bad base64url, a payload or key set that does not read).
	ErrMalformed = errors.New("malformed key bundle")
	// ErrSignature: not signed by a pinned key, or the signature does not
	// verify (the bundle was changed on the way, or forged).
	ErrSignature = errors.New("key bundle signature does not verify")
	// ErrReplay: a valid bundle older than the one held.
	ErrReplay = errors.New("key bundle is older than the one held (a replay, or a fetcher whose clock went back)")
	// ErrUnchanged: the bundle held, again. Not a failure: nothing to do.
	ErrUnchanged = errors.New("key bundle is the one already held")
	// ErrStale: issued longer than max_stale ago.
	ErrStale = errors.New("key bundle is stale")
	// ErrFuture: issued further in the future than MaxFutureSkew.
	ErrFuture = errors.New("key bundle is issued in the future")
)

// Reason is the metric name of a refusal: "malformed", "bad_signature",
// "replay", "unchanged", "stale", "future"; "" for nil and for errors that
// are not Verify's.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrSignature):
		return "bad_signature"
	case errors.Is(err, ErrReplay):
		return "replay"
	case errors.Is(err, ErrUnchanged):
		return "unchanged"
	case errors.Is(err, ErrStale):
		return "stale"
	case errors.Is(err, ErrFuture):
		return "future"
	}
	return ""
}

// Reasons lists every Reason of a refusal, for metric definitions.
func Reasons() []string {
	return []string{"malformed", "bad_signature", "replay", "stale", "future"}
}

// refusal is a refusal with what it is about.
type refusal struct {
	kind   error
	detail string
}

func (e *refusal) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *refusal) Unwrap() error { return e.kind }

func refuse(kind error, detail string) error { return &refusal{kind, detail} }

// Verifier checks bundles against pinned keys and a maximum age. It holds
// no state: the caller keeps the version it holds and passes it to Verify.
type Verifier struct {
	keys     []PublicKey
	maxStale time.Duration
}

// NewVerifier returns a Verifier that accepts bundles signed by one of keys
// (more than one during a rotation of the signing key) and issued at most
// maxStale before the time of the check.
func NewVerifier(maxStale time.Duration, keys ...PublicKey) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, errors.New("keybundle: no pinned key; a bundle could never verify")
	}
	if maxStale <= 0 {
		return nil, errors.New("keybundle: max_stale must be positive")
	}
	for i, k := range keys {
		if len(k.key) != ed25519.PublicKeySize {
			return nil, errors.New("keybundle: pinned key " + strconv.Itoa(i) + " is empty; use ParsePublicKey or NewPublicKey")
		}
	}
	return &Verifier{keys: append([]PublicKey(nil), keys...), maxStale: maxStale}, nil
}

// MaxStale is the age beyond which a bundle is refused.
func (v *Verifier) MaxStale() time.Duration { return v.maxStale }

// Verify reads the bundle data at time now, given the version the caller
// holds (0 for none). In this order: the envelope must read; the signature
// must verify, over the payload bytes as they came, with the pinned key the
// bundle names; the payload must read; the version must be newer than held
// (ErrUnchanged when equal, ErrReplay when older); issued_at must be no
// older than max_stale and no further ahead than MaxFutureSkew; every key
// set must read (internal/jwk, which also skips unusable keys with a
// warning). Nothing of the payload is looked at before the signature
// verifies. The returned Bundle's JWKS slices point into memory of its own.
func (v *Verifier) Verify(data []byte, held uint64, now time.Time) (*Bundle, error) {
	keyID, payload, sig, err := envelope(data)
	if err != nil {
		return nil, err
	}
	var key *PublicKey
	for i := range v.keys {
		if v.keys[i].id == keyID {
			key = &v.keys[i]
			break
		}
	}
	if key == nil {
		return nil, refuse(ErrSignature, "signed with key "+strconv.Quote(keyID)+", which is not pinned (pinned: "+v.pinnedIDs()+")")
	}
	if !ed25519.Verify(key.key, signedMessage(payload), sig) {
		return nil, refuse(ErrSignature, "the signature by key "+strconv.Quote(keyID)+" does not match the payload: the bundle was changed after signing")
	}
	b, err := readPayload(payload)
	if err != nil {
		return nil, err
	}
	b.KeyID = keyID
	switch {
	case b.Version < held:
		return nil, refuse(ErrReplay, "version "+strconv.FormatUint(b.Version, 10)+" is older than the version held, "+strconv.FormatUint(held, 10))
	case b.Version == held:
		return nil, refuse(ErrUnchanged, "version "+strconv.FormatUint(b.Version, 10))
	}
	if age := now.Sub(b.IssuedAt); age > v.maxStale {
		return nil, refuse(ErrStale, "issued "+seconds(age)+" ago, more than max_stale ("+seconds(v.maxStale)+")")
	}
	if ahead := b.IssuedAt.Sub(now); ahead > MaxFutureSkew {
		return nil, refuse(ErrFuture, "issued "+seconds(ahead)+" from now; are the fetcher's and the proxy's clocks set?")
	}
	for i := range b.Providers {
		p := &b.Providers[i]
		set, warnings, err := jwk.Parse(p.JWKS)
		if err != nil {
			return nil, refuse(ErrMalformed, "the key set of provider "+strconv.Quote(p.Name)+": "+err.Error())
		}
		p.Keys, p.Warnings = set, warnings
	}
	return b, nil
}

func (v *Verifier) pinnedIDs() string {
	s := ""
	for i, k := range v.keys {
		if i > 0 {
			s += ", "
		}
		s += strconv.Quote(k.id)
	}
	return s
}

func seconds(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + " s"
}

// envelope reads {"key_id","payload","signature"}: exactly these three
// strings, the payload and the 64-byte signature in unpadded base64url.
func envelope(data []byte) (keyID string, payload, sig []byte, err error) {
	if len(data) == 0 || len(data) > MaxBytes {
		return "", nil, nil, refuse(ErrMalformed, "the bundle has "+strconv.Itoa(len(data))+" bytes; want 1 to "+strconv.Itoa(MaxBytes))
	}
	if err := jsonstrict.Check(data); err != nil {
		return "", nil, nil, refuse(ErrMalformed, err.Error())
	}
	doc := gjson.ParseBytes(data)
	if !doc.IsObject() {
		return "", nil, nil, refuse(ErrMalformed, "a bundle is a JSON object with key_id, payload and signature")
	}
	var p64, s64 string
	seen := 0
	doc.ForEach(func(k, val gjson.Result) bool {
		if val.Type != gjson.String {
			err = refuse(ErrMalformed, strconv.Quote(k.Str)+" must be a string")
			return false
		}
		switch k.Str {
		case "key_id":
			keyID = val.Str
		case "payload":
			p64 = val.Str
		case "signature":
			s64 = val.Str
		default:
			err = refuse(ErrMalformed, "unknown member "+strconv.Quote(k.Str)+" (known: key_id, payload, signature)")
			return false
		}
		seen++
		return true
	})
	if err != nil {
		return "", nil, nil, err
	}
	if seen != 3 {
		return "", nil, nil, refuse(ErrMalformed, "key_id, payload and signature are all required")
	}
	if payload, err = jwk.DecodeSegment(p64); err != nil || len(payload) == 0 {
		return "", nil, nil, refuse(ErrMalformed, "payload is not unpadded base64url")
	}
	if sig, err = jwk.DecodeSegment(s64); err != nil || len(sig) != ed25519.SignatureSize {
		return "", nil, nil, refuse(ErrMalformed, "signature is not 64 bytes of unpadded base64url")
	}
	return keyID, payload, sig, nil
}

// readPayload reads a verified payload. It is as strict as the envelope:
// exactly the members Sign writes, integers without sign, fraction or
// exponent, each provider once.
func readPayload(payload []byte) (*Bundle, error) {
	if err := jsonstrict.Check(payload); err != nil {
		return nil, refuse(ErrMalformed, "payload: "+err.Error())
	}
	doc := gjson.ParseBytes(payload)
	if !doc.IsObject() {
		return nil, refuse(ErrMalformed, "payload: not a JSON object")
	}
	b := &Bundle{}
	var err error
	seen := 0
	doc.ForEach(func(k, val gjson.Result) bool {
		seen++
		switch k.Str {
		case "version":
			b.Version, err = integer("version", val)
			if err == nil && b.Version == 0 {
				err = refuse(ErrMalformed, "payload: version must be at least 1")
			}
		case "issued_at":
			var s uint64
			s, err = integer("issued_at", val)
			if err == nil && (s == 0 || s > 1<<40) {
				err = refuse(ErrMalformed, "payload: issued_at is not a plausible Unix time")
			}
			b.IssuedAt = time.Unix(int64(s), 0)
		case "providers":
			b.Providers, err = providers(val)
		default:
			err = refuse(ErrMalformed, "payload: unknown member "+strconv.Quote(k.Str)+" (known: version, issued_at, providers)")
		}
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if seen != 3 {
		return nil, refuse(ErrMalformed, "payload: version, issued_at and providers are all required")
	}
	return b, nil
}

// integer reads a JSON number written as decimal digits only.
func integer(name string, v gjson.Result) (uint64, error) {
	raw := v.Raw
	ok := v.Type == gjson.Number && raw != "" && len(raw) <= 20 && (raw[0] != '0' || raw == "0")
	for i := 0; ok && i < len(raw); i++ {
		ok = '0' <= raw[i] && raw[i] <= '9'
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if !ok || err != nil {
		return 0, refuse(ErrMalformed, "payload: "+name+" must be a non-negative integer")
	}
	return n, nil
}

func providers(v gjson.Result) ([]Provider, error) {
	if !v.IsObject() {
		return nil, refuse(ErrMalformed, "payload: providers must be an object")
	}
	var out []Provider
	var err error
	v.ForEach(func(name, p gjson.Result) bool {
		if len(out) == MaxProviders {
			err = refuse(ErrMalformed, "payload: more than "+strconv.Itoa(MaxProviders)+" providers")
			return false
		}
		if e := checkName(name.Str); e != nil {
			err = refuse(ErrMalformed, "payload: a provider name is empty or longer than "+strconv.Itoa(maxNameBytes)+" bytes")
			return false
		}
		path := "payload: providers." + name.Str
		if !p.IsObject() {
			err = refuse(ErrMalformed, path+" must be an object")
			return false
		}
		pr := Provider{Name: name.Str}
		seen := 0
		p.ForEach(func(k, val gjson.Result) bool {
			seen++
			switch k.Str {
			case "issuer":
				if val.Type != gjson.String || val.Str == "" {
					err = refuse(ErrMalformed, path+".issuer must be a non-empty string")
				}
				pr.Issuer = val.Str
			case "jwks":
				if !val.IsObject() {
					err = refuse(ErrMalformed, path+".jwks must be a JWK Set (an object)")
				}
				pr.JWKS = []byte(val.Raw)
			default:
				err = refuse(ErrMalformed, path+": unknown member "+strconv.Quote(k.Str)+" (known: issuer, jwks)")
			}
			return err == nil
		})
		if err == nil && seen != 2 {
			err = refuse(ErrMalformed, path+": issuer and jwks are both required")
		}
		if err == nil && len(out) > 0 && out[len(out)-1].Name >= pr.Name {
			// Sign writes them sorted; sorted input also makes Provider's
			// binary search valid (duplicates are refused by the strict
			// reader already).
			err = refuse(ErrMalformed, "payload: providers are not sorted by name")
		}
		out = append(out, pr)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
