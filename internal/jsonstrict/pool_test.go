package jsonstrict

import (
	"strings"
	"testing"
)

// A pooled checker keeps nothing of the document it checked: not the
// document, not the member sets of large objects, not a decoding buffer
// over maxKeptScratch; it keeps a smaller one for the next document.
func TestPooledCheckerKeepsNothingOfTheDocument(t *testing.T) {
	var many strings.Builder
	many.WriteString("{")
	for i := range 20 { // more than the 16 names compared one by one: a member set
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"m` + string(rune('a'+i)) + `":1`)
	}
	many.WriteString("}")
	long := `{"` + strings.Repeat(`\u0061`, maxKeptScratch+1) + `":1,"b":2}`
	tests := []struct {
		name      string
		doc       string
		scratch   int  // capacity of the first decoding buffer before the check
		keepsFull bool // the buffer is still there afterwards
	}{
		{name: "a buffer of exactly the bound is kept", doc: `{"a\u0062":1,"c":2}`, scratch: maxKeptScratch, keepsFull: true},
		{name: "a small buffer is kept", doc: `{"a\u0062":1,"c":2}`, scratch: 64, keepsFull: true},
		{name: "a buffer grown past the bound is dropped", doc: long, scratch: 64},
		{name: "member sets are dropped", doc: many.String(), scratch: 64, keepsFull: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := new(pooled)
			p.scratch[0] = make([]byte, 0, tt.scratch)
			if err := p.check([]byte(tt.doc), MaxDepth); err != nil {
				t.Fatal(err)
			}
			if p.checker.b != nil || p.checker.stack != nil || p.checker.keys != nil {
				t.Error("the checker still holds the document")
			}
			for i := range p.stack { // the array the checker's stack starts in
				if p.stack[i].big != nil {
					t.Errorf("frame %d keeps a member set", i)
				}
			}
			if kept := p.scratch[0] != nil; kept != tt.keepsFull {
				t.Errorf("decoding buffer kept: %v, want %v (cap %d)", kept, tt.keepsFull, cap(p.scratch[0]))
			}
			if cap(p.scratch[0]) > maxKeptScratch || cap(p.scratch[1]) > maxKeptScratch {
				t.Errorf("kept buffers of %d and %d bytes, over %d", cap(p.scratch[0]), cap(p.scratch[1]), maxKeptScratch)
			}
		})
	}
}
