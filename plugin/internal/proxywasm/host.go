//go:build wasip1

package proxywasm

import "time"

// Host is the binding as a value. The plugin's packages that make host calls
// of their own (metrics, the choice of signature verifier) take them as a
// small interface, so that they are tested natively with a fake host; Host
// satisfies each of those interfaces with the real calls. It is an empty
// struct: storing it in an interface does not allocate.
type Host struct{}

// Log writes msg to the host log at level (abi.LogDebug … abi.LogCritical).
func (Host) Log(level uint32, msg string) { Log(level, msg) }

// Now returns the proxy's wall clock (GetCurrentTime).
func (Host) Now() time.Time { return GetCurrentTime() }

// CallForeignFunction calls a function the host registered by name.
func (Host) CallForeignFunction(name string, args []byte) ([]byte, error) {
	return CallForeignFunction(name, args)
}

// DefineMetric defines a counter, gauge or histogram (abi.MetricCounter …)
// and returns its id.
func (Host) DefineMetric(metricType uint32, name string) (uint32, error) {
	counted()
	err := statusError(hostDefineMetric(metricType, strPtr(name), uint32(len(name)), &outU32))
	return outU32, err
}

// IncrementMetric adds delta to a counter or gauge.
func (Host) IncrementMetric(id uint32, delta int64) error {
	counted()
	return statusError(hostIncrementMetric(id, delta))
}

// RecordMetric sets a gauge or records a histogram sample.
func (Host) RecordMetric(id uint32, value uint64) error {
	counted()
	return statusError(hostRecordMetric(id, value))
}
