package jsonstrict_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/jsonstrict"
)

// TestCheckDrawsEachLineAtTheRightByte walks the edges of the grammar: the
// surrogate ranges at their ends, literals and escapes that end the input,
// the depth limit exactly, and Valid agreeing with Check. Each input is a
// slice whose capacity is its length, so that a read past the end panics
// instead of finding whatever follows in memory.
func TestCheckDrawsEachLineAtTheRightByte(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		max      int // 0: MaxDepth
		err      error
	}{
		{"the lowest surrogate pair", `"\ud800\udc00"`, 0, nil},
		{"the highest surrogate pair", `"\udbff\udfff"`, 0, nil},
		{"the last code point below the surrogates", `"\ud7ff"`, 0, nil},
		{"the first code point above the surrogates", `"\ue000"`, 0, nil},
		{"a high surrogate followed by a high one", `"\ud800\udbff"`, 0, jsonstrict.ErrEncoding},
		{"a high surrogate followed by a non-surrogate", `"\ud800\ue000"`, 0, jsonstrict.ErrEncoding},
		{"a high surrogate followed by another escape", `"\ud800\n"`, 0, jsonstrict.ErrEncoding},
		{"a high surrogate at the end of the string", `"\ud800"`, 0, jsonstrict.ErrEncoding},
		{"a high surrogate at the end of the input", `"\ud800`, 0, jsonstrict.ErrEncoding},
		{"a high surrogate and a backslash at the end of the input", `"\ud800\`, 0, jsonstrict.ErrEncoding},
		{"two low surrogates", `"\udc00\udc00"`, 0, jsonstrict.ErrEncoding},
		{"a short escape at the end of the input", `"\u12`, 0, jsonstrict.ErrSyntax},
		{"a short low surrogate at the end of the input", `"\ud800\udc`, 0, jsonstrict.ErrSyntax},
		{"a low surrogate with a short escape", `"\ud800\udc0"`, 0, jsonstrict.ErrSyntax},
		{"upper- and lower-case hex digits", `"\u00aF\u00Af"`, 0, nil},
		{"a lone high surrogate in upper-case hex", `"\uD800"`, 0, jsonstrict.ErrEncoding},
		{"a surrogate pair in upper-case hex", `"\uDBFF\uDFFF"`, 0, nil},
		{"a name escaped in upper-case hex is the same name", `{"\u004A":1,"J":2}`, 0, jsonstrict.ErrDuplicate},
		{"a name escaped in lower-case hex is the same name", `{"\u006a":1,"j":2}`, 0, jsonstrict.ErrDuplicate},
		{"a name escaped with digits is the same name", `{"\u0030\u0039":1,"09":2}`, 0, jsonstrict.ErrDuplicate},
		{"a non-hex digit in an escape", `"\u00g0"`, 0, jsonstrict.ErrSyntax},
		{"a backslash at the end of the input", `"\`, 0, jsonstrict.ErrSyntax},
		{"an unterminated string", `"abc`, 0, jsonstrict.ErrSyntax},
		{"a space in a string", `"a b"`, 0, nil},
		{"a unit separator in a string", "\"a\x1fb\"", 0, jsonstrict.ErrSyntax},
		{"DEL in a string", "\"a\x7fb\"", 0, nil},
		{"a lone continuation byte 0x80 in a string", "\"a\x80b\"", 0, jsonstrict.ErrEncoding},
		{"a two-byte sequence in a string", "\"\xc2\x80\"", 0, nil},
		{"true at the end of the input", `true`, 0, nil},
		{"false at the end of an array", `[false]`, 0, nil},
		{"null at the end of the input", `null`, 0, nil},
		{"a literal one byte short", `nul`, 0, jsonstrict.ErrSyntax},
		{"a literal one byte short after a bracket", `[nul`, 0, jsonstrict.ErrSyntax},
		{"zero", `0`, 0, nil},
		{"a number that starts with 9", `[9]`, 0, nil},
		{"a name escaped as a surrogate pair is the same name as its UTF-8", `{"\ud83d\ude00":1,"😀":2}`, 0, jsonstrict.ErrDuplicate},
		{"two names escaped as different surrogate pairs differ", `{"\ud83d\ude00":1,"\ud83d\ude01":2}`, 0, nil},
		{"minus zero with a fraction and exponent", `-0.0e-0`, 0, nil},
		{"an exponent with a capital E", `1E+9`, 0, nil},
		{"a minus sign before a leading zero", `-01`, 0, jsonstrict.ErrSyntax},
		{"a fraction without digits after a zero", `0.e1`, 0, jsonstrict.ErrSyntax},
		{"an exponent without digits at the end", `1e`, 0, jsonstrict.ErrSyntax},
		{"a depth of exactly the limit", `[[]]`, 2, nil},
		{"one level over the limit", `[[[]]]`, 2, jsonstrict.ErrDepth},
		{"objects count like arrays", `{"a":{"b":{}}}`, 2, jsonstrict.ErrDepth},
		{"a scalar needs no depth", `1`, 0, nil},
		{"an empty object", `{}`, 0, nil},
		{"an empty object with white space", `{ }`, 0, nil},
		{"an object closed by ]", `{]`, 0, jsonstrict.ErrSyntax},
		{"an array closed by }", `[1}`, 0, jsonstrict.ErrSyntax},
		{"a member without a value at the end", `{"a":`, 0, jsonstrict.ErrSyntax},
		{"a name at the end", `{"a"`, 0, jsonstrict.ErrSyntax},
		{"a comma at the end", `[1,`, 0, jsonstrict.ErrSyntax},
		{"an open bracket at the end", `[`, 0, jsonstrict.ErrSyntax},
		{"an array without its close at the end", `[1`, 0, jsonstrict.ErrSyntax},
		{"an object without its close at the end", `{"a":1`, 0, jsonstrict.ErrSyntax},
		{"an object ending in a comma", `{"a":1,`, 0, jsonstrict.ErrSyntax},
		{"an open brace and white space at the end", `{ `, 0, jsonstrict.ErrSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = jsonstrict.MaxDepth
			}
			in := []byte(tc.in)
			in = in[:len(in):len(in)]
			err := jsonstrict.CheckDepth(in, max)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("CheckDepth(%q, %d) = %v, want %v", tc.in, max, err, tc.err)
			}
			if tc.max == 0 && jsonstrict.Valid(in) != (tc.err == nil) {
				t.Fatalf("Valid(%q) = %v, want %v", tc.in, !(tc.err == nil), tc.err == nil)
			}
		})
	}
}

// TestErrorSaysWhereTheDocumentFailed: the message names the offset of the
// first byte that does not fit, and the depth limit for a document nested
// too deeply.
func TestErrorSaysWhereTheDocumentFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string
		offset   int
	}{
		{`{"a":1,}`, "not valid JSON at offset 7", 7},
		{"[\"\xff\"]", "not valid UTF-8 at offset 2", 2},
		{strings.Repeat("[", jsonstrict.MaxDepth+1), "JSON nests arrays and objects more than 32 levels deep (at offset 32)", 32},
		{`{"a":1,"a":2}`, `member "a" appears twice; remove one of them`, 7}, // the second name's opening quote
		{`"\u0041`, "not valid JSON at offset 7", 7},                         // a whole escape, then the end
		{`"\ud83d\ude00`, "not valid JSON at offset 13", 13},                 // a whole pair, then the end
	} {
		err := jsonstrict.Check([]byte(tc.in))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Check(%q) = %v, want %q", tc.in, err, tc.want)
		}
		var e *jsonstrict.Error
		if !errors.As(err, &e) || e.Offset != tc.offset {
			t.Errorf("Check(%q) = %#v, want a *jsonstrict.Error at offset %d", tc.in, err, tc.offset)
		}
	}
}
