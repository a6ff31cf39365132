package jwksfetch

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/tokengate/tokengate/internal/jwk"
	"github.com/tokengate/tokengate/jwksfetch/internal/keyset"
)

// errNoUsableKeys means a non-empty set held no key the plugin can use.
var errNoUsableKeys = errors.New("the JWK Set holds no key the plugin can use; keeping the previous key set")

// usableKeys turns a fetched JWK Set into the set that is pushed to the
// plugin: private members stripped, and every key the plugin's own parser
// (internal/jwk) would skip dropped, each with a warning. It returns the
// set's kids, sorted. A document that is not a JWK Set, that exceeds the key
// cap, or whose keys are all unusable is an error, so that the caller keeps
// its last good set.
func usableKeys(body []byte, maxKeys int) (json.RawMessage, []string, []string, error) {
	pub, warnings, err := keyset.Public(body, maxKeys)
	if err != nil {
		return nil, nil, warnings, err
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(pub, &doc); err != nil {
		return nil, nil, warnings, fmt.Errorf("re-reading the public JWK Set: %w", err)
	}
	kept := make([]json.RawMessage, 0, len(doc.Keys))
	var kids []string
	for i, k := range doc.Keys {
		single := append(append([]byte(`{"keys":[`), k...), "]}"...)
		set, warns, err := jwk.Parse(single)
		if err != nil {
			return nil, nil, warnings, fmt.Errorf("keys[%d]: %w", i, err)
		}
		for _, w := range warns {
			warnings = append(warnings, fmt.Sprintf("keys[%d]%s", i, strings.TrimPrefix(w, "keys[0]")))
		}
		if len(set.Keys) != 1 {
			continue
		}
		kept = append(kept, k)
		kids = append(kids, set.Keys[0].Kid)
	}
	if len(doc.Keys) > 0 && len(kept) == 0 {
		return nil, nil, warnings, errNoUsableKeys
	}
	out, err := json.Marshal(struct {
		Keys []json.RawMessage `json:"keys"`
	}{kept})
	if err != nil {
		return nil, nil, warnings, fmt.Errorf("encoding the JWK Set: %w", err)
	}
	sort.Strings(kids)
	return out, kids, warnings, nil
}

// kidDiff returns the kids in b but not in a, and those in a but not in b.
func kidDiff(a, b []string) (added, removed []string) {
	in := func(s []string, v string) bool {
		for _, x := range s {
			if x == v {
				return true
			}
		}
		return false
	}
	for _, k := range b {
		if !in(a, k) {
			added = append(added, k)
		}
	}
	for _, k := range a {
		if !in(b, k) {
			removed = append(removed, k)
		}
	}
	return added, removed
}
