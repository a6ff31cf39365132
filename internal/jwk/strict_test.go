package jwk_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/jsonstrict"
	"github.com/tokengate/tokengate/internal/jwk"
)

// TestDeeplyNestedSetsAreRefused is the regression test for a stack
// exhaustion: gjson's validator recurses once per level, and inside Envoy's
// V8 a few thousand levels trap the VM.
func TestDeeplyNestedSetsAreRefused(t *testing.T) {
	deep := `{"keys":[],"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`
	if _, _, err := jwk.Parse([]byte(deep)); !errors.Is(err, jwk.ErrNotASet) || !errors.Is(err, jsonstrict.ErrDepth) {
		t.Fatalf("err = %v, want ErrNotASet and ErrDepth", err)
	}
}

// TestSetsMustBeUTF8: a set that is not UTF-8 is not JSON (RFC 8259 §8.1).
// gjson read a kid of "\x80" byte for byte where encoding/json reads U+FFFD,
// a parser differential FuzzJWKDifferential found.
func TestSetsMustBeUTF8(t *testing.T) {
	if _, _, err := jwk.Parse([]byte("{\"keys\":[{\"kty\":\"OKP\",\"kid\":\"\x80\",\"crv\":\"Ed25519\",\"x\":\"AA\"}]}")); !errors.Is(err, jwk.ErrNotASet) || !errors.Is(err, jsonstrict.ErrEncoding) {
		t.Fatalf("err = %v, want ErrNotASet and ErrEncoding", err)
	}
}
