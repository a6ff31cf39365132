//go:build wasip1

package session

import "syscall"

// SystemRandom fills b from the platform's randomness: in the module, WASI
// random_get, which every supported Envoy provides (internal/envoyabi). It
// returns the host's error instead of crashing the VM, as crypto/rand does
// when random_get fails, so that a sign-in fails closed with an answer. (It
// also keeps crypto/rand's fallbacks, and the fd_read they import, out of
// the module.)
func SystemRandom(b []byte) error { return syscall.RandomGet(b) }
