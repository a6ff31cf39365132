package keyset

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPublic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       string
		maxKeys  int
		want     string
		warnings int
		err      error
	}{
		{name: "a public set passes unchanged", in: `{"keys":[{"kty":"EC","kid":"a","x":"1","y":"2"}]}`, want: `{"keys":[{"kid":"a","kty":"EC","x":"1","y":"2"}]}`},
		{name: "private RSA members are stripped with a warning", in: `{"keys":[{"kty":"RSA","kid":"r","n":"n","e":"AQAB","d":"x","p":"x","q":"x","dp":"x","dq":"x","qi":"x"}]}`, want: `{"keys":[{"e":"AQAB","kid":"r","kty":"RSA","n":"n"}]}`, warnings: 1},
		{name: "a symmetric secret is stripped", in: `{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}`, want: `{"keys":[{"kid":"h","kty":"oct"}]}`, warnings: 1},
		{name: "an empty set is a set", in: `{"keys":[]}`, want: `{"keys":[]}`},
		{name: "garbage is refused", in: `<html>`, err: ErrNotKeySet},
		{name: "an object without keys is refused", in: `{"issuer":"x"}`, err: ErrNotKeySet},
		{name: "a non-object key is refused", in: `{"keys":[null]}`, err: ErrNotKeySet},
		{name: "too many keys are refused", in: `{"keys":[{},{},{}]}`, maxKeys: 2, err: ErrTooManyKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, warns, err := Public([]byte(tt.in), tt.maxKeys)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if len(warns) != tt.warnings {
				t.Fatalf("warnings = %q, want %d", warns, tt.warnings)
			}
			for _, w := range warns {
				if strings.Contains(w, "c2VjcmV0") {
					t.Fatalf("warning leaks key material: %s", w)
				}
			}
		})
	}
}

func FuzzPublic(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"RSA","d":"x"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := Public(data, 0)
		if err != nil {
			return
		}
		var doc struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		for i, k := range doc.Keys {
			for _, m := range privateMembers {
				if _, ok := k[m]; ok {
					t.Fatalf("keys[%d] still has %q: %s", i, m, out)
				}
			}
		}
	})
}
