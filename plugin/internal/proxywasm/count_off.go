//go:build wasip1 && !tokengate_testhooks

package proxywasm

// counted counts a host call in the test-hooks build (count_on.go); in a
// release build it is empty and inlined away.
func counted() {}
