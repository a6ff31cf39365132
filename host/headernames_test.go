package host

import (
	"net/http"
	"strings"
	"testing"
)

// The tables must give exactly what the conversions they stand in for give,
// for the names they hold and for any other.
func TestHeaderNameConversions(t *testing.T) {
	names := append([]string{"x-user", "X-USER", "X-Custom_Name", "weird name", "", "Ünïcode"}, commonNames...)
	for _, n := range names {
		for _, in := range []string{n, strings.ToLower(n), strings.ToUpper(n)} {
			if got, want := lowerName(in), strings.ToLower(in); got != want {
				t.Errorf("lowerName(%q) = %q, want %q", in, got, want)
			}
			if got, want := canonicalName(in), http.CanonicalHeaderKey(in); got != want {
				t.Errorf("canonicalName(%q) = %q, want %q", in, got, want)
			}
		}
	}
}

// Converting a common name allocates nothing: the request path converts
// every name twice.
func TestHeaderNameConversionsAllocateNothing(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = lowerName("Authorization")
		_ = canonicalName("x-forwarded-proto")
	})
	if allocs != 0 {
		t.Errorf("converting common header names allocated %v times per run, want 0", allocs)
	}
}
