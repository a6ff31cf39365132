package wycheproof

import (
	"fmt"
	"slices"
	"strings"
)

// acceptable is tokengate's decision on each flag that Wycheproof marks
// "acceptable", and why; docs/security-rules.md ("Wycheproof vectors")
// lists the same table. Every verification path must decide so.
var acceptable = map[string]struct {
	accept bool
	why    string
}{
	// RSASSA-PKCS1-v1_5 with a DigestInfo whose AlgorithmIdentifier omits
	// the NULL parameters. RFC 8017 §9.2 note 2 lets verifiers accept it;
	// crypto/rsa and BoringSSL compare the encoding byte for byte and
	// refuse, and no JWS signer produces it.
	"MissingNull": {false, "PKCS#1 v1.5 DigestInfo without the NULL parameters: refused"},
}

// Want reports whether a verifier of tokengate must accept tc: valid
// vectors yes, invalid no, acceptable ones as the table above decides. An
// acceptable vector with a flag the table does not know is an error, so a
// new kind of vector is decided on purpose, not by accident.
func Want(tc Test) (bool, error) {
	switch tc.Result {
	case Valid:
		return true, nil
	case Invalid:
		return false, nil
	}
	decided, accept := false, false
	for _, f := range tc.Flags {
		d, ok := acceptable[f]
		if !ok {
			continue
		}
		if decided && d.accept != accept {
			return false, fmt.Errorf("wycheproof: test %d: flags %v decide both ways", tc.ID, tc.Flags)
		}
		decided, accept = true, d.accept
	}
	if !decided {
		return false, fmt.Errorf("wycheproof: acceptable test %d has flags %v, none of which tokengate has decided", tc.ID, tc.Flags)
	}
	return accept, nil
}

// Tally counts, per algorithm and expected result, what one verification
// path decided. Tests log it; SECURITY.md quotes it.
type Tally map[string]*Count

// Count is one algorithm's row of a Tally.
type Count struct {
	Valid, ValidAccepted           int
	Invalid, InvalidRefused        int
	Acceptable, AcceptableAccepted int
	// Other counts vectors this path does not decide (the algorithm is not
	// sent to it); they are excluded from the columns above.
	Other int
}

// Add records that the path decided accepted on tc under alg.
func (t Tally) Add(alg string, tc Test, accepted bool) {
	c := t.row(alg)
	switch tc.Result {
	case Valid:
		c.Valid++
		if accepted {
			c.ValidAccepted++
		}
	case Invalid:
		c.Invalid++
		if !accepted {
			c.InvalidRefused++
		}
	case Acceptable:
		c.Acceptable++
		if accepted {
			c.AcceptableAccepted++
		}
	}
}

// Skip records a vector this path does not decide.
func (t Tally) Skip(alg string) { t.row(alg).Other++ }

func (t Tally) row(alg string) *Count {
	c := t[alg]
	if c == nil {
		c = &Count{}
		t[alg] = c
	}
	return c
}

// String renders the tally as a Markdown table, one row per algorithm.
func (t Tally) String() string {
	algs := make([]string, 0, len(t))
	for a := range t {
		algs = append(algs, a)
	}
	slices.Sort(algs)
	var b strings.Builder
	b.WriteString("| alg | valid accepted | invalid refused | acceptable accepted | not decided here |\n|---|---|---|---|---|\n")
	for _, a := range algs {
		c := t[a]
		fmt.Fprintf(&b, "| %s | %d/%d | %d/%d | %d/%d | %d |\n", a, c.ValidAccepted, c.Valid,
			c.InvalidRefused, c.Invalid, c.AcceptableAccepted, c.Acceptable, c.Other)
	}
	return b.String()
}
