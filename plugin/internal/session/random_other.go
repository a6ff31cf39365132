//go:build !wasip1

package session

import "crypto/rand"

// SystemRandom fills b from the platform's randomness: crypto/rand outside
// the module (in the module, WASI random_get).
func SystemRandom(b []byte) error {
	_, err := rand.Read(b)
	return err
}
