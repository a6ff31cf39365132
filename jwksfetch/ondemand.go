package jwksfetch

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// RefreshOutcome says what RequestRefresh did with a request.
type RefreshOutcome int

// Outcomes of RequestRefresh.
const (
	// RefreshScheduled: a fetch of the provider's key set was started.
	RefreshScheduled RefreshOutcome = iota
	// RefreshKnownKid: the kid is already in the key set in force; the
	// proxy has not received that set yet, and will shortly.
	RefreshKnownKid
	// RefreshUnknownKid: a recent refresh did not find this kid; it is
	// ignored until the memory of it expires.
	RefreshUnknownKid
	// RefreshRateLimited: the provider was refreshed on demand less than
	// the on-demand interval ago.
	RefreshRateLimited
	// RefreshUnknownProvider: no fetched provider has this name.
	RefreshUnknownProvider
)

func (o RefreshOutcome) String() string {
	switch o {
	case RefreshScheduled:
		return "scheduled"
	case RefreshKnownKid:
		return "known_kid"
	case RefreshUnknownKid:
		return "unknown_kid"
	case RefreshRateLimited:
		return "rate_limited"
	case RefreshUnknownProvider:
		return "unknown_provider"
	}
	return "invalid"
}

// RequestRefresh asks for an early fetch of provider's key set because a
// token carried kid, which the proxy's key set lacks. kid may be empty. At
// most one such fetch starts per provider per on-demand interval (default
// 30 s), and a kid that a fetch did not find is ignored for a while (default
// 5 min), so a flood of tokens with random kids cannot become a flood of
// fetches. The fetch runs in the background of Run; RequestRefresh never
// blocks.
func (f *Fetcher) RequestRefresh(provider, kid string) RefreshOutcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.provs[provider]
	if !ok {
		return RefreshUnknownProvider
	}
	out := f.requestLocked(p, kid)
	p.refreshes[out]++
	return out
}

func (f *Fetcher) requestLocked(p *provider, kid string) RefreshOutcome {
	now := f.s.clock.Now()
	if kid != "" && contains(p.kids, kid) {
		return RefreshKnownKid
	}
	if until, ok := p.unknown[kid]; ok && kid != "" {
		if now.Before(until) {
			return RefreshUnknownKid
		}
		delete(p.unknown, kid)
	}
	if !p.lastOnDemand.IsZero() && now.Sub(p.lastOnDemand) < f.s.onDemandInterval {
		return RefreshRateLimited
	}
	p.lastOnDemand = now
	p.onDemand = p.started + 1 // the next refresh to begin, which the kick below makes sure of
	if kid != "" {
		p.pending = append(p.pending, kid)
	}
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return RefreshScheduled
}

// RefreshKeys is RequestRefresh for a caller that waits for the answer: the
// plugin, whose request is paused meanwhile (internal/refreshapi). Whatever
// the outcome, when an on-demand fetch of provider is under way (the one
// this request started, or an earlier one that rate-limited it) it waits
// for that fetch to end, or for ctx; then it returns the key set in force,
// which is nil when the provider has none. So the fetcher still fetches at
// most once per provider per on-demand interval, and every proxy VM that
// asks during a rotation gets the new set from the same fetch.
func (f *Fetcher) RefreshKeys(ctx context.Context, provider, kid string) (json.RawMessage, RefreshOutcome, error) {
	f.mu.Lock()
	p, ok := f.provs[provider]
	if !ok {
		f.mu.Unlock()
		return nil, RefreshUnknownProvider, nil
	}
	out := f.requestLocked(p, kid)
	p.refreshes[out]++
	target := p.onDemand
	for p.completed < target {
		ended := p.ended
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, out, fmt.Errorf("jwksfetch: waiting for the key set of provider %q: %w", provider, ctx.Err())
		case <-ended:
		}
		f.mu.Lock()
	}
	jwks := p.jwks
	f.mu.Unlock()
	return jwks, out, nil
}

// rememberUnknown records that a fetch did not find kid, forgetting expired
// entries first and, when the memory is still full, an arbitrary one. The
// caller holds f.mu.
func (f *Fetcher) rememberUnknown(p *provider, kid string, now time.Time) {
	if len(p.unknown) >= maxUnknownKids {
		for k, until := range p.unknown {
			if !now.Before(until) {
				delete(p.unknown, k)
			}
		}
		for k := range p.unknown {
			if len(p.unknown) < maxUnknownKids {
				break
			}
			delete(p.unknown, k)
		}
	}
	p.unknown[kid] = now.Add(f.s.unknownKidTTL)
}
