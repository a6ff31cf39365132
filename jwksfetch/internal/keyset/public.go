package keyset

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tokengate/tokengate/internal/jsonstrict"
)

// ErrNotKeySet means the document is not a JWK Set: not a JSON object with a
// "keys" array of objects.
var ErrNotKeySet = errors.New("keyset: document is not a JWK Set (want a JSON object with a \"keys\" array)")

// ErrTooManyKeys means the set holds more keys than the configured cap.
var ErrTooManyKeys = errors.New("keyset: JWK Set has more keys than allowed")

var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Public returns data re-encoded with private and symmetric members removed,
// one warning per key that lost members. It fails when data is not a JWK Set
// or holds more than maxKeys keys (maxKeys <= 0 means no cap).
func Public(data []byte, maxKeys int) ([]byte, []string, error) {
	if err := jsonstrict.Check(data); err != nil {
		// Duplicate members at any depth mean different keys to different
		// readers; the plugin refuses such a set, so it is never passed on.
		return nil, nil, fmt.Errorf("%w: %w", ErrNotKeySet, err)
	}
	var doc struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrNotKeySet, err)
	}
	if doc.Keys == nil {
		return nil, nil, ErrNotKeySet
	}
	if maxKeys > 0 && len(doc.Keys) > maxKeys {
		return nil, nil, fmt.Errorf("%w: %d keys, cap %d; raise the key cap if this is expected", ErrTooManyKeys, len(doc.Keys), maxKeys)
	}
	var warnings []string
	for i, k := range doc.Keys {
		if k == nil {
			return nil, nil, fmt.Errorf("%w: keys[%d] is not an object", ErrNotKeySet, i)
		}
		var removed []string
		for _, m := range privateMembers {
			if _, ok := k[m]; ok {
				delete(k, m)
				removed = append(removed, m)
			}
		}
		if len(removed) > 0 {
			var kid string
			_ = json.Unmarshal(k["kid"], &kid)
			warnings = append(warnings, fmt.Sprintf("keys[%d] (kid %q): removed non-public members %v; the provider MUST publish public keys only", i, kid, removed))
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("keyset: re-encoding the JWK Set: %w", err)
	}
	return out, warnings, nil
}
