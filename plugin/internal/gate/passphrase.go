package gate

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"golang.org/x/crypto/bcrypt"
)

// passphrase is a shared secret accepted as a Bearer credential: for batch
// jobs and tools that cannot obtain tokens. The plain form is compared in
// constant time; the hashed form is PBKDF2-SHA256 or bcrypt, and each distinct
// presented value is hashed once and the outcome remembered (keyed by its
// SHA-256), so a steady client costs one hash, not one per request.
type passphrase struct {
	plain []byte // SHA-256 of the configured plain passphrase, or nil

	iterations int
	salt, hash []byte
	bcrypt     []byte // a bcrypt hash ($2a$, $2b$ or $2y$), or nil

	seen map[[32]byte]bool // presented value digest → accepted (wrong values only)

	accepted       bool
	acceptedDigest [32]byte // the value found right, never forgotten

	tokens, last float64 // the hash budget (spend)
}

// maxSeen bounds the memory of wrong values; when full it is cleared.
const maxSeen = 256

const pbkdf2Format = "pbkdf2-sha256$<iterations>$<salt, unpadded base64>$<32-byte hash, unpadded base64> or a bcrypt hash ($2b$...)"

func (c *compiler) passphrase(path string, v gjson.Result) *passphrase {
	plain, hashed := v.Get("passphrase"), v.Get("hashed_passphrase")
	if plain.Exists() == hashed.Exists() {
		c.fail(path, `a passphrase provider needs exactly one of "passphrase" or "hashed_passphrase"`)
		return nil
	}
	pp := &passphrase{seen: map[[32]byte]bool{}}
	if plain.Exists() {
		s := c.str(path+".passphrase", plain, "")
		if len(s) < 16 {
			c.fail(path+".passphrase", "must be at least 16 characters")
			return nil
		}
		sum := sha256.Sum256([]byte(s))
		pp.plain = sum[:]
		return pp
	}
	s := c.str(path+".hashed_passphrase", hashed, "")
	parts := strings.Split(s, "$")
	bad := func(why string) *passphrase {
		c.fail(path+".hashed_passphrase", why+"; want "+pbkdf2Format)
		return nil
	}
	if strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$") {
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil {
			return bad("not a valid bcrypt hash")
		}
		if cost > 14 {
			return bad("bcrypt cost " + strconv.Itoa(cost) + " is above 14, too slow for a proxy")
		}
		pp.bcrypt = []byte(s)
		return pp
	}
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return bad("unknown format")
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1000 || n > 10_000_000 {
		return bad("iterations must be from 1000 to 10000000")
	}
	pp.iterations = n
	if pp.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[2]); err != nil || len(pp.salt) < 8 {
		return bad("salt must be at least 8 bytes")
	}
	if pp.hash, err = base64.RawStdEncoding.Strict().DecodeString(parts[3]); err != nil || len(pp.hash) != 32 {
		return bad("hash must be 32 bytes")
	}
	return pp
}

// hashBudget bounds the passphrase hashes one VM computes: hashesPerSecond
// on average, in bursts of up to hashBurst. Hashing is slow by design, so a
// client sending many distinct wrong values could otherwise occupy the
// proxy's worker; past the budget such values get 503 and Retry-After,
// while a value whose outcome is known costs nothing and is never delayed.
const (
	hashesPerSecond = 5
	hashBurst       = 10
)

// check reports whether presented is the passphrase at time now (seconds).
// busy reports that the value would need a hash and the budget is spent.
func (pp *passphrase) check(presented string, now float64) (ok, busy bool) {
	digest := sha256.Sum256([]byte(presented))
	if pp.plain != nil {
		return subtle.ConstantTimeCompare(digest[:], pp.plain) == 1, false
	}
	if pp.accepted && digest == pp.acceptedDigest {
		return true, false
	}
	if ok, seen := pp.seen[digest]; seen {
		return ok, false
	}
	if !pp.spend(now) {
		return false, true
	}
	if pp.bcrypt != nil {
		// bcrypt only looks at the first 72 bytes; longer values are refused
		// rather than truncated.
		ok = len(presented) <= 72 && bcrypt.CompareHashAndPassword(pp.bcrypt, []byte(presented)) == nil
	} else {
		key, err := pbkdf2.Key(sha256.New, presented, pp.salt, pp.iterations, len(pp.hash))
		ok = err == nil && subtle.ConstantTimeCompare(key, pp.hash) == 1
	}
	if ok {
		// The right value is remembered apart from the wrong ones, so a
		// flood of wrong values can never make it cost a hash again.
		pp.accepted, pp.acceptedDigest = true, digest
		return true, false
	}
	if len(pp.seen) >= maxSeen {
		clear(pp.seen)
	}
	pp.seen[digest] = false
	return false, false
}

// spend takes one hash from the budget.
func (pp *passphrase) spend(now float64) bool {
	if pp.last == 0 {
		pp.tokens = hashBurst
	} else if elapsed := now - pp.last; elapsed > 0 {
		pp.tokens = min(hashBurst, pp.tokens+elapsed*hashesPerSecond)
	}
	pp.last = now
	if pp.tokens < 1 {
		return false
	}
	pp.tokens--
	return true
}
