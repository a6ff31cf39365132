package gate

import (
	"errors"
	"fmt"
	"testing"
)

// TestDenyAnswersAnErrorOutsideTheTableAsAServerError: an error that is not
// one of the table's is a bug; it is answered 500 with the error in the
// reason only, never in the body.
func TestDenyAnswersAnErrorOutsideTheTableAsAServerError(t *testing.T) {
	g := compile(t, `{"providers":{"a":{"issuer":"x"}}}`)
	tests := []struct {
		name string
		err  error
	}{
		{"a plain error", errors.New("secret detail")},
		{"a wrapped table error", fmt.Errorf("wrapped: %w", ErrTokenExpired)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.deny(tt.err, "")
			if d.Allow || d.Status != 500 || d.Code != "internal_error" || d.Reason != "internal error: "+tt.err.Error() {
				t.Fatalf("deny(%v) = %+v", tt.err, d)
			}
			if string(d.Body) != `{"error":"internal_error","error_description":"the request could not be checked"}` {
				t.Fatalf("body %s", d.Body)
			}
			if header(d, "content-type") != "application/json" || header(d, "cache-control") != "no-store" {
				t.Fatalf("headers %v", d.Headers)
			}
		})
	}
}

func TestDenyAnswersANilErrorAsAServerError(t *testing.T) {
	g := compile(t, standardConfig(t))
	var nilErr *Error
	d := g.deny(nilErr, "")
	if d.Allow || d.Status != 500 || d.Code != "internal_error" {
		t.Fatalf("%+v", d)
	}
}
