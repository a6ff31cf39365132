package wasmabi

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// Func is a function signature in the TSV's notation: value types separated
// by spaces ("i32 i64"), empty for none.
type Func struct {
	Params, Results string
}

// Import is one imported function.
type Import struct {
	Module, Name string
	Func
}

// Export is one exported item. Kind is "func", "table", "memory" or "global";
// Func is set for functions only.
type Export struct {
	Name, Kind string
	Func
}

// Module is what the checker needs of a module.
type Module struct {
	Imports []Import
	Exports []Export
}

// ErrMalformed reports bytes that are not a well-formed module header or
// section layout.
var ErrMalformed = errors.New("wasmabi: not a well-formed WebAssembly module")

var valTypes = map[byte]string{0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref"}

type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = ErrMalformed
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = ErrMalformed
	return 0
}

func (r *reader) bytes(n uint32) []byte {
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		r.err = ErrMalformed
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// count reads a vector length. Every entry takes at least one byte, so a
// count larger than what is left is malformed, and loops over it are bounded
// by the input's size.
func (r *reader) count() uint32 {
	n := r.u32()
	if uint64(n) > uint64(len(r.b)) {
		r.err = ErrMalformed
		return 0
	}
	return n
}

func (r *reader) name() string { return string(r.bytes(r.u32())) }

func (r *reader) types() string {
	n := r.u32()
	if n > uint32(len(r.b)) {
		r.err = ErrMalformed
		return ""
	}
	parts := make([]string, 0, n)
	for range n {
		c := r.byte()
		t, ok := valTypes[c]
		if !ok {
			t = "0x" + strconv.FormatUint(uint64(c), 16)
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

func (r *reader) limits() {
	if r.byte()&1 == 1 {
		r.u32()
	}
	r.u32()
}

// Parse reads the type, import, function and export sections of a module.
func Parse(wasm []byte) (*Module, error) {
	if !bytes.HasPrefix(wasm, []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, ErrMalformed
	}
	r := &reader{b: wasm[8:]}
	var (
		sigs      []Func
		funcTypes []uint32 // type index of every function, imports first
		m         Module
		exports   []struct {
			name  string
			kind  byte
			index uint32
		}
	)
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sec := &reader{b: r.bytes(r.u32())}
		switch id {
		case 1: // type
			for range sec.count() {
				if sec.byte() != 0x60 {
					return nil, ErrMalformed
				}
				sigs = append(sigs, Func{Params: sec.types(), Results: sec.types()})
			}
		case 2: // import
			for range sec.count() {
				mod, name := sec.name(), sec.name()
				switch sec.byte() {
				case 0: // function
					ti := sec.u32()
					if int(ti) >= len(sigs) {
						return nil, ErrMalformed
					}
					funcTypes = append(funcTypes, ti)
					m.Imports = append(m.Imports, Import{Module: mod, Name: name, Func: sigs[ti]})
				case 1: // table
					sec.byte()
					sec.limits()
					m.Imports = append(m.Imports, Import{Module: mod, Name: name, Func: Func{Params: "table"}})
				case 2: // memory
					sec.limits()
					m.Imports = append(m.Imports, Import{Module: mod, Name: name, Func: Func{Params: "memory"}})
				case 3: // global
					sec.byte()
					sec.byte()
					m.Imports = append(m.Imports, Import{Module: mod, Name: name, Func: Func{Params: "global"}})
				default:
					return nil, ErrMalformed
				}
			}
		case 3: // function
			for range sec.count() {
				funcTypes = append(funcTypes, sec.u32())
			}
		case 7: // export
			for range sec.count() {
				e := struct {
					name  string
					kind  byte
					index uint32
				}{name: sec.name(), kind: sec.byte(), index: sec.u32()}
				exports = append(exports, e)
			}
		}
		if sec.err != nil {
			return nil, sec.err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	for _, e := range exports {
		x := Export{Name: e.name}
		switch e.kind {
		case 0:
			x.Kind = "func"
			if int(e.index) >= len(funcTypes) || int(funcTypes[e.index]) >= len(sigs) {
				return nil, ErrMalformed
			}
			x.Func = sigs[funcTypes[e.index]]
		case 1:
			x.Kind = "table"
		case 2:
			x.Kind = "memory"
		case 3:
			x.Kind = "global"
		default:
			return nil, ErrMalformed
		}
		m.Exports = append(m.Exports, x)
	}
	return &m, nil
}
