package host

import (
	"sync"

	"github.com/tokengate/tokengate/internal/abi"
)

// metricStore holds plugin-defined metrics shared by all VMs of a plugin.
// Semantics follow Envoy: counters only grow (increment by a negative delta
// is BAD_ARGUMENT, record adds), gauges move both ways (record sets),
// histograms only record, and their value cannot be read back.
type metricStore struct {
	mu      sync.Mutex
	ids     map[string]uint32
	metrics []metric
}

type metric struct {
	name  string
	kind  uint32
	value int64
	count uint64 // histograms: observations
}

func newMetricStore() *metricStore { return &metricStore{ids: map[string]uint32{}} }

// define returns the id of name, creating it; redefining a name with
// another type is BAD_ARGUMENT.
func (s *metricStore) define(name string, kind uint32) (uint32, abi.Status) {
	if kind > abi.MetricHistogram {
		return 0, abi.StatusBadArgument
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.ids[name]; ok {
		if s.metrics[id-1].kind != kind {
			return 0, abi.StatusBadArgument
		}
		return id, abi.StatusOK
	}
	s.metrics = append(s.metrics, metric{name: name, kind: kind})
	id := uint32(len(s.metrics))
	s.ids[name] = id
	return id, abi.StatusOK
}

func (s *metricStore) lookup(id uint32) *metric {
	if id == 0 || int(id) > len(s.metrics) {
		return nil
	}
	return &s.metrics[id-1]
}

func (s *metricStore) increment(id uint32, d int64) abi.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.lookup(id)
	switch {
	case m == nil:
		return abi.StatusNotFound
	case m.kind == abi.MetricHistogram, m.kind == abi.MetricCounter && d < 0:
		return abi.StatusBadArgument
	}
	m.value += d
	return abi.StatusOK
}

func (s *metricStore) record(id uint32, val uint64) abi.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.lookup(id)
	if m == nil {
		return abi.StatusNotFound
	}
	switch m.kind {
	case abi.MetricCounter:
		m.value += int64(val)
	case abi.MetricGauge:
		m.value = int64(val)
	default:
		m.value += int64(val)
		m.count++
	}
	return abi.StatusOK
}

func (s *metricStore) get(id uint32) (int64, abi.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.lookup(id)
	switch {
	case m == nil:
		return 0, abi.StatusNotFound
	case m.kind == abi.MetricHistogram:
		return 0, abi.StatusBadArgument
	}
	return m.value, abi.StatusOK
}

// Metric is a snapshot of one plugin-defined metric.
type Metric struct {
	Name string
	// Type is abi.MetricCounter, abi.MetricGauge or abi.MetricHistogram.
	Type uint32
	// Value is the counter or gauge value, or a histogram's sum.
	Value int64
	// Count is the number of values a histogram recorded.
	Count uint64
}

// Metrics returns a snapshot of the counters and gauges the plugin defined,
// by name; a histogram appears as its sum.
func (p *Plugin) Metrics() map[string]int64 {
	s := p.metrics
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.metrics))
	for _, m := range s.metrics {
		out[m.name] = m.value
	}
	return out
}

// MetricList returns every plugin-defined metric with its type, in the
// order the plugin defined them.
func (p *Plugin) MetricList() []Metric {
	s := p.metrics
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Metric, len(s.metrics))
	for i, m := range s.metrics {
		out[i] = Metric{Name: m.name, Type: m.kind, Value: m.value, Count: m.count}
	}
	return out
}
