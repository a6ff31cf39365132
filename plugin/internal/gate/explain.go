package gate

import (
	"strconv"
	"strings"
	"time"
)

// Trace is how the gate reached a decision: the rule that matched and every
// check it made, in order. Explain fills it in by running the same code as
// Decide, so what it shows is what a proxy does. It never holds the token.
type Trace struct {
	Path     string      // the canonical path the rules were matched on
	Rule     int         // index of the matching rule in "rules"; -1: none matched, or there are no rules
	Match    string      // that rule's match object as configured, or a note when there are no rules
	Captures [][2]string // what its path template captured: name, value
	Steps    []Step
	Decision Decision

	depth int
}

// Step is one check: what was checked and whether it held. A step that
// opens a group (all_of[0], any_of[1]) has Group set, and the steps inside
// it are one Depth deeper.
type Step struct {
	Depth int
	Check string
	OK    bool
	Group bool
}

// Explain answers a request like Decide and says how: which rule matched
// and every check made on the way. It is meant for people (the tokengate
// explain command); proxies call Decide, which records nothing.
func (g *Gate) Explain(in *Request, now time.Time) Trace {
	tr := &Trace{Rule: -1}
	tr.Decision = g.decide(in, now, tr)
	return *tr
}

func (t *Trace) check(what string, ok bool) {
	if t == nil {
		return
	}
	t.Steps = append(t.Steps, Step{Depth: t.depth, Check: what, OK: ok})
}

func (t *Trace) enter(group string) {
	if t == nil {
		return
	}
	t.Steps = append(t.Steps, Step{Depth: t.depth, Check: group, Group: true})
	t.depth++
}

func (t *Trace) leave() {
	if t == nil {
		return
	}
	t.depth--
	// A group holds when its last step does: evaluation stops at the first
	// failure inside a group, and groups are never empty.
	for i := len(t.Steps) - 1; i >= 0; i-- {
		if s := &t.Steps[i]; s.Group && s.Depth == t.depth {
			s.OK = t.Steps[len(t.Steps)-1].OK
			return
		}
	}
}

// matched records the rule that matched and its captures.
func (t *Trace) matched(g *Gate, r *rule, req *request) {
	if g.rules == nil {
		t.Match = "(no rules: any provider's valid token)"
	}
	for i, x := range g.rules {
		if x == r {
			t.Rule, t.Match = i, r.text
		}
	}
	if r.template != nil {
		for i, name := range r.template.names {
			t.Captures = append(t.Captures, [2]string{name, req.caps[i]})
		}
	}
}

// verified records the outcome of checking the credential.
func (t *Trace) verified(v *verified) {
	switch {
	case v.err == nil && v.provider.passphrase != nil:
		t.check("passphrase of provider "+strconv.Quote(v.provider.name)+" accepted", true)
	case v.err == nil:
		what := "token verified by provider " + strconv.Quote(v.provider.name) + ": signature, issuer, audience, type, time"
		if v.cached {
			what += " (from the cache; time re-checked)"
		}
		t.check(what, true)
	default:
		what := "credential verified: " + v.err.Error()
		if v.detail != "" {
			what += " (" + v.detail + ")"
		}
		t.check(what, false)
	}
}

// String names a token source for traces: `header authorization ("Bearer ")`.
func (s source) String() string {
	switch s.kind {
	case fromParam:
		return "query parameter " + strconv.Quote(s.name)
	case fromCookie:
		return "cookie " + strconv.Quote(s.name)
	case fromSession:
		return "session cookie " + strconv.Quote(s.name)
	}
	if s.prefix == "" {
		return "header " + s.name
	}
	return "header " + s.name + " (" + strconv.Quote(strings.TrimSpace(s.prefix)) + ")"
}
