//go:build wasip1 && tokengate_testhooks

package proxywasm

// hostCalls counts the host calls the module made, in the test-hooks build
// only, so that a test can hold the request path to its number of host calls
// (plugin/testhooks_on.go reports it).
var hostCalls uint64

func counted() { hostCalls++ }

// HostCalls returns how many host calls the module has made.
func HostCalls() uint64 { return hostCalls }
