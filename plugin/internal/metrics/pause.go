package metrics

import (
	"time"

	"github.com/tokengate/tokengate/internal/abi"
)

// PauseOutcome is how a request that was paused for a key refresh ended
// (docs/configuration.md, "refresh").
type PauseOutcome uint8

// The outcomes of a paused request; each paused request ends in exactly
// one, so tokengate.key_refresh.paused is their sum plus the requests still
// waiting.
const (
	// PauseAllowed: decided again with the key set the fetcher answered
	// with, and let through.
	PauseAllowed PauseOutcome = iota
	// PauseDenied: the fetcher answered, and the request decided again was
	// refused (the answer still lacked the kid, or was not a usable key set).
	PauseDenied
	// PauseTimedOut: the refresh call brought no answer within its
	// timeout_ms (or failed to connect: Proxy-Wasm reports both alike), and
	// the request got its refusal.
	PauseTimedOut
	// PauseAbandoned: the request was gone (its client left) when the
	// answer came.
	PauseAbandoned

	pauseOutcomes
)

// pauseNames are the metric names: tokengate.key_refresh.<name>.
var pauseNames = [pauseOutcomes]string{"allowed", "denied", "timed_out", "abandoned"}

const pausePrefix = "tokengate.key_refresh."

func (m *Metrics) definePause(define func(abi.MetricType, string) metric) {
	m.paused = define(abi.MetricCounter, pausePrefix+"paused")
	for o, name := range pauseNames {
		m.pauseEnded[o] = define(abi.MetricCounter, pausePrefix+name)
	}
	m.pauseMillis = define(abi.MetricHistogram, pausePrefix+"pause_ms")
}

// Paused counts a request paused for a key refresh: the one that sent the
// call, and each that waits on it.
func (m *Metrics) Paused() { m.inc(m.paused) }

// Resumed counts how a paused request ended and records, in the histogram
// tokengate.key_refresh.pause_ms, how long it waited, unless it was
// abandoned (its wait ended with no one to answer). The counter waits for the
// next flush like the others; the sample goes to the host at once.
func (m *Metrics) Resumed(o PauseOutcome, waited time.Duration) {
	if o >= pauseOutcomes {
		return
	}
	m.inc(m.pauseEnded[o])
	if o != PauseAbandoned && m.pauseMillis.defined {
		if waited < 0 {
			waited = 0
		}
		_ = m.host.RecordMetric(m.pauseMillis.id, uint64(waited/time.Millisecond))
	}
}
