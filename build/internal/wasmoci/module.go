package wasmoci

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// wasmHeader is the magic number and version 1 that every core WebAssembly
// module starts with.
var wasmHeader = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// ErrNotWasmModule reports bytes that are not a core WebAssembly module.
var ErrNotWasmModule = errors.New("wasmoci: not a WebAssembly core module")

// checkModule refuses anything that is not a core WebAssembly module, so that
// a wrong file (a tar, a component, an HTML error page) is never published or
// written out as the plugin.
func checkModule(b []byte) error {
	if len(b) < len(wasmHeader) {
		return fmt.Errorf("%w: %d bytes is shorter than the 8-byte module header", ErrNotWasmModule, len(b))
	}
	if !bytes.Equal(b[:4], wasmHeader[:4]) {
		return fmt.Errorf("%w: it does not start with \\0asm (got % x); pass the .wasm file `make wasm` writes", ErrNotWasmModule, b[:4])
	}
	if !bytes.Equal(b[4:8], wasmHeader[4:8]) {
		return fmt.Errorf("%w: version % x is not 1 (a component or an unknown version); Envoy loads core modules only", ErrNotWasmModule, b[4:8])
	}
	return nil
}

// SHA256 returns the lowercase hex SHA-256 of b: what Envoy's
// vm_config.code.remote.sha256 expects for the module itself.
func SHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
