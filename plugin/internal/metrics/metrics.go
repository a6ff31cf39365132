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

// Metrics are one configuration's metrics. Envoy numbers metrics from 0, so
// each one carries a flag that says whether the host accepted its definition;
// a metric the host refused is never touched.
type Metrics struct {
	host                                            Host
	allowed, denied, unavailable, cacheHits, dryRun metric
	decisionMicros                                  metric
	byProvider, byCode                              map[string]metric
}

type metric struct {
	id      uint32
	defined bool
}

// Define defines the metrics of a configuration with the given providers and
// refusal codes (gate.Codes). A metric the host refuses to define is left
// out; the others still count.
func Define(h Host, providers, codes []string) *Metrics {
	define := func(typ abi.MetricType, name string) metric {
		id, err := h.DefineMetric(typ, name)
		return metric{id: id, defined: err == nil}
	}
	m := &Metrics{
		host:           h,
		allowed:        define(abi.MetricCounter, "tokengate.requests.allowed"),
		denied:         define(abi.MetricCounter, "tokengate.requests.denied"),
		unavailable:    define(abi.MetricCounter, "tokengate.requests.keys_unavailable"),
		cacheHits:      define(abi.MetricCounter, "tokengate.cache.hits"),
		dryRun:         define(abi.MetricCounter, "tokengate.requests.dry_run_denied"),
		decisionMicros: define(abi.MetricHistogram, "tokengate.verify_us"),
		byProvider:     make(map[string]metric, len(providers)),
		byCode:         make(map[string]metric, len(codes)),
	}
	for _, name := range providers {
		m.byProvider[name] = define(abi.MetricCounter, "tokengate.provider."+name+".allowed")
	}
	for _, code := range codes {
		m.byCode[code] = define(abi.MetricCounter, "tokengate.denied."+code)
	}
	return m
}

func (m *Metrics) inc(c metric) {
	if c.defined {
		_ = m.host.IncrementMetric(c.id, 1)
	}
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
}
