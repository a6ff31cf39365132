package jsonstrict_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/jsonstrict"
)

func TestCheck(t *testing.T) {
	many := func(n int, dupAt int) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			k := i
			if i == dupAt {
				k = 0
			}
			b.WriteString(`"k` + strings.Repeat("x", k%7) + string(rune('a'+k/7%26)) + string(rune('a'+k/182)) + `":1`)
		}
		b.WriteString("}")
		return b.String()
	}
	tests := []struct {
		name string
		in   string
		err  error
		path string
	}{
		{"object", `{"a":1,"b":[true,false,null,"x",-0.5e+3]}`, nil, ""},
		{"white space around", " \t\n{ \"a\" : [ ] , \"b\" : { } }\r\n", nil, ""},
		{"scalar", `"x"`, nil, ""},
		{"escapes", `{"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00":1}`, nil, ""},
		{"same name in sibling objects", `{"a":{"x":1},"b":{"x":2}}`, nil, ""},
		{"same name at two depths", `{"x":{"x":{"x":1}}}`, nil, ""},
		{"many distinct members", many(100, -1), nil, ""},

		{"top-level duplicate", `{"a":1,"a":2}`, jsonstrict.ErrDuplicate, "a"},
		{"nested duplicate", `{"realm_access":{"roles":["admin"],"roles":["user"]}}`, jsonstrict.ErrDuplicate, "realm_access.roles"},
		{"duplicate inside an array", `{"keys":[{"kty":"RSA"},{"n":"a","n":"b"}]}`, jsonstrict.ErrDuplicate, "keys[1].n"},
		{"escaped duplicate", `{"x":1,"\u0078":2}`, jsonstrict.ErrDuplicate, "x"},
		{"escaped duplicate both escaped", `{"\u0078":1,"\u0078":2}`, jsonstrict.ErrDuplicate, "x"},
		{"duplicate after many members", many(40, 39), jsonstrict.ErrDuplicate, "kaa"},
		{"duplicate past the linear window", many(17, 16), jsonstrict.ErrDuplicate, "kaa"},
		{"empty names twice", `{"":1,"":2}`, jsonstrict.ErrDuplicate, ""},
		{"deep duplicate", strings.Repeat(`{"a":`, 20) + `{"b":1,"b":2}` + strings.Repeat("}", 20), jsonstrict.ErrDuplicate, strings.Repeat("a.", 20) + "b"},

		{"too deep", strings.Repeat("[", 33) + strings.Repeat("]", 33), jsonstrict.ErrDepth, ""},
		{"deepest allowed", strings.Repeat("[", 32) + strings.Repeat("]", 32), nil, ""},
		{"brackets in strings do not count", `["` + strings.Repeat("[", 100) + `"]`, nil, ""},

		{"invalid UTF-8", "{\"a\":\"\xff\"}", jsonstrict.ErrEncoding, ""},
		{"lone high surrogate", `{"a":"\ud800"}`, jsonstrict.ErrEncoding, ""},
		{"lone low surrogate", `{"a":"\udc00"}`, jsonstrict.ErrEncoding, ""},
		{"reversed surrogates", `{"a":"\udc00\ud800"}`, jsonstrict.ErrEncoding, ""},

		{"empty", ``, jsonstrict.ErrSyntax, ""},
		{"trailing comma", `{"a":1,}`, jsonstrict.ErrSyntax, ""},
		{"trailing comma in array", `[1,]`, jsonstrict.ErrSyntax, ""},
		{"two values", `{} {}`, jsonstrict.ErrSyntax, ""},
		{"unclosed", `{"a":[1,2}`, jsonstrict.ErrSyntax, ""},
		{"mismatched", `[}`, jsonstrict.ErrSyntax, ""},
		{"control character", "\"a\x01\"", jsonstrict.ErrSyntax, ""},
		{"bad escape", `"\x"`, jsonstrict.ErrSyntax, ""},
		{"short unicode escape", `"\u12"`, jsonstrict.ErrSyntax, ""},
		{"leading zero", `01`, jsonstrict.ErrSyntax, ""},
		{"bare minus", `-`, jsonstrict.ErrSyntax, ""},
		{"dot without digits", `1.`, jsonstrict.ErrSyntax, ""},
		{"exponent without digits", `1e+`, jsonstrict.ErrSyntax, ""},
		{"plus sign", `+1`, jsonstrict.ErrSyntax, ""},
		{"single quotes", `{'a':1}`, jsonstrict.ErrSyntax, ""},
		{"unquoted name", `{a:1}`, jsonstrict.ErrSyntax, ""},
		{"truncated literal", `tru`, jsonstrict.ErrSyntax, ""},
		{"missing colon", `{"a" 1}`, jsonstrict.ErrSyntax, ""},
		{"NaN", `NaN`, jsonstrict.ErrSyntax, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := jsonstrict.Check([]byte(tt.in))
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("Check(%q) = %v, want %v", tt.in, err, tt.err)
			}
			var e *jsonstrict.Error
			if tt.path != "" && (!errors.As(err, &e) || e.Path != tt.path) {
				t.Fatalf("Check(%q) path = %q, want %q", tt.in, e.Path, tt.path)
			}
		})
	}
}

func TestErrorMessageNamesThePath(t *testing.T) {
	err := jsonstrict.Check([]byte(`{"providers":{"corp":{"issuer":"a","issuer":"b"}}}`))
	want := `member "providers.corp.issuer" appears twice; remove one of them`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// FuzzCheck holds Check to encoding/json: whatever Check accepts,
// encoding/json accepts too, and a document encoding/json accepts is refused
// by Check only for a reason encoding/json does not check (duplicates,
// depth, lone surrogates).
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":{"b":[1,2,{"c":"\u00e9"}]}}`, `{"a":1,"a":2}`, `[[[[]]]]`, `"\ud800"`, `1e5`, `{"x":1,"\u0078":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := jsonstrict.Check(b)
		std := json.Valid(b)
		if err == nil && !std {
			t.Fatalf("Check accepts %q, encoding/json does not", b)
		}
		if err != nil && std && errors.Is(err, jsonstrict.ErrSyntax) {
			t.Fatalf("Check calls %q a syntax error, encoding/json accepts it: %v", b, err)
		}
		if err == nil {
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			var v any
			if d.Decode(&v) != nil {
				t.Fatalf("encoding/json cannot decode %q", b)
			}
		}
	})
}

func ExampleCheck() {
	fmt.Println(jsonstrict.Check([]byte(`{"roles":["admin"]}`)))
	fmt.Println(jsonstrict.Check([]byte(`{"realm_access":{"roles":["admin"],"roles":["user"]}}`)))
	// Output:
	// <nil>
	// member "realm_access.roles" appears twice; remove one of them
}
