package keybundle

import (
	"errors"
	"strconv"
	"strings"
)

// The exchange over HTTP. The plugin polls with
//
//	GET <Path>
//	accept: MediaType
//	if-none-match: ETag(version held)
//
// and the fetcher answers 200 with the bundle (Content-Type MediaType, ETag
// of its version), or 304 when the bundle in force is the one the plugin
// holds. When a signing key is configured, the fetcher's answer to the
// unknown-kid POST /refresh (internal/refreshapi) is a bundle too.

// ETag is the entity tag of the bundle with the given version.
func ETag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// CheckAnswer checks the status, content type and size of an answer that
// should carry a bundle, before the body is read: a 200 with a MediaType
// body of 1 to MaxBytes bytes. A 304 is not an error for a poll, and the
// caller handles it first.
func CheckAnswer(status, contentType string, size int) error {
	if status != "200" {
		return errors.New("keybundle: the fetcher answered " + strconv.Quote(status) + ", not 200 with a key bundle")
	}
	if mt, _, _ := strings.Cut(contentType, ";"); !strings.EqualFold(strings.TrimSpace(mt), MediaType) {
		return errors.New("keybundle: the answer's content-type is " + strconv.Quote(contentType) + ", want " + MediaType +
			" (is the upstream jwksfetch, started with --bundle-key?)")
	}
	if size <= 0 || size > MaxBytes {
		return errors.New("keybundle: the answer's body has " + strconv.Itoa(size) + " bytes, want 1 to " + strconv.Itoa(MaxBytes))
	}
	return nil
}
