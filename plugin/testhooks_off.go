//go:build wasip1 && !tokengate_testhooks

package main

// testHooks is the identity in a release build: the module has no way to
// make itself fail on purpose. See testhooks_on.go.
func testHooks(config []byte) ([]byte, hooks) { return config, hooks{} }

type hooks struct{}

func (hooks) enabled() bool    { return false }
func (hooks) onRequest(string) {}
