package metrics

import (
	"time"

	"github.com/tokengate/tokengate/internal/abi"
	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// Host is what the metrics need from the proxy.
type Host interface {
	// DefineMetric defines a metric of type typ (abi.MetricCounter,
	// abi.MetricHistogram) and returns its id.
	DefineMetric(typ abi.MetricType, name string) (uint32, error)
	IncrementMetric(id uint32, delta int64) error
	RecordMetric(id uint32, value uint64) error
	// Now is the proxy's clock, which timed decisions are measured with.
	Now() time.Time
}

// FlushEvery bounds how far the host's counters can fall behind: Count
// flushes the counts it holds once this many decisions have been counted
// since the last flush, and the plugin flushes on every tick (TickMillis)
// as well.
const FlushEvery = 64

// TickMillis is the tick period the plugin asks the host for, so that counts
// reach the host within about a second however few requests arrive.
const TickMillis = 1000

// Metrics are one configuration's metrics. Envoy numbers metrics from 0, so
// each one carries a flag that says whether the host accepted its definition;
// a metric the host refused is never touched.
//
// Counters are counted in the module and added to the host's in one
// increment per counter that moved when Flush runs: on the plugin's tick, and
// from Count every FlushEvery decisions. A request thus makes no metric host
// call in the common case, where it would otherwise make three.
type Metrics struct {
	host                                            Host
	allowed, denied, unavailable, cacheHits, dryRun metric
	decisionMicros                                  metric
	byProvider, byCode                              map[string]metric

	// Requests paused for a key refresh (pause.go).
	paused      metric
	pauseEnded  [pauseOutcomes]metric
	pauseMillis metric

	ids       []uint32 // the host id of each defined counter, by slot
	pending   []int64  // the counts not yet added to the host's, by slot
	decisions int      // decisions counted since the last flush
	every     int      // flush after this many decisions (FlushEvery; 1 once closed)
}

type metric struct {
	id      uint32
	slot    int32 // the index in pending of a defined counter
	defined bool
}

// Define defines the metrics of a configuration with the given providers and
// refusal codes (gate.Codes). A metric the host refuses to define is left
// out; the others still count.
func Define(h Host, providers, codes []string) *Metrics {
	m := &Metrics{host: h, every: FlushEvery}
	define := func(typ abi.MetricType, name string) metric {
		id, err := h.DefineMetric(typ, name)
		if err != nil {
			return metric{}
		}
		c := metric{id: id, defined: true, slot: -1}
		if typ == abi.MetricCounter {
			c.slot = int32(len(m.ids))
			m.ids = append(m.ids, id)
		}
		return c
	}
	m.allowed = define(abi.MetricCounter, "tokengate.requests.allowed")
	m.denied = define(abi.MetricCounter, "tokengate.requests.denied")
	m.unavailable = define(abi.MetricCounter, "tokengate.requests.keys_unavailable")
	m.cacheHits = define(abi.MetricCounter, "tokengate.cache.hits")
	m.dryRun = define(abi.MetricCounter, "tokengate.requests.dry_run_denied")
	m.decisionMicros = define(abi.MetricHistogram, "tokengate.verify_us")
	m.definePause(define)
	m.byProvider = make(map[string]metric, len(providers))
	m.byCode = make(map[string]metric, len(codes))
	for _, name := range providers {
		m.byProvider[name] = define(abi.MetricCounter, "tokengate.provider."+name+".allowed")
	}
	for _, code := range codes {
		m.byCode[code] = define(abi.MetricCounter, "tokengate.denied."+code)
	}
	m.pending = make([]int64, len(m.ids))
	return m
}

func (m *Metrics) inc(c metric) {
	if c.defined {
		m.pending[c.slot]++
	}
}

// Flush adds the counts held in the module to the host's counters: one host
// call per counter that moved since the last flush, none if nothing did.
func (m *Metrics) Flush() {
	for slot, n := range m.pending {
		if n != 0 {
			_ = m.host.IncrementMetric(m.ids[slot], n)
			m.pending[slot] = 0
		}
	}
	m.decisions = 0
}

// Close flushes, and makes every later Count flush at once: a configuration
// that is being replaced gets no more ticks, but its last streams may still
// be counted.
func (m *Metrics) Close() {
	m.every = 1
	m.Flush()
}

// Count counts one decision that was started at start (the time passed to
// gate.Decide).
func (m *Metrics) Count(d *gate.Decision, start time.Time) {
	// Only decisions that checked a credential from scratch are timed: a
	// cache hit or a public route costs a microsecond, and the clock read
	// and the histogram call would cost more than the decision.
	if d.Cached {
		m.inc(m.cacheHits)
	} else if (d.Provider != "" || !d.Allow) && m.decisionMicros.defined {
		_ = m.host.RecordMetric(m.decisionMicros.id, uint64(m.host.Now().Sub(start)/time.Microsecond))
	}
	switch {
	case d.DryRun:
		m.inc(m.dryRun)
		m.inc(m.allowed)
	case d.Allow:
		m.inc(m.allowed)
		if d.Provider != "" {
			m.inc(m.byProvider[d.Provider])
		}
	case d.Status == 503:
		m.inc(m.unavailable)
		m.inc(m.byCode[d.Code])
	default:
		m.inc(m.denied)
		m.inc(m.byCode[d.Code])
	}
	if m.decisions++; m.decisions >= m.every {
		m.Flush()
	}
}
