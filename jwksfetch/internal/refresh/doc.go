// Package refresh decides when a JWKS fetcher should fetch a key set again.
//
// A provider's cache hints (Cache-Control max-age) are honoured but clamped to
// an operator-chosen window, so a provider can neither force a fetch storm
// (max-age=0) nor pin stale keys for days. Failures back off exponentially
// with full jitter so many fetchers do not retry in lockstep.
//
//	w := refresh.Window{Default: 5 * time.Minute, Min: 30 * time.Second, Max: 24 * time.Hour}
//	next := w.Interval(resp.Header)
//	wait := w.Backoff(failures, rand.Float64)
package refresh
