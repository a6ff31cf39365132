// Command conformance is a Proxy-Wasm guest that calls every host function
// Envoy links for ABI v0.2.1 modules and checks what the host answers. It
// logs "FAIL <function>: <why>" for each failed check, "checks <n>" after
// each callback that checked something, and "covered <names>" on /report.
// The host tests drive it through its configuration and request paths.
package main

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"
)

func main() {}

// Status and enum values of ABI v0.2.1.
const (
	ok, notFound, badArgument, invalidMemory, empty, casMismatch, internalFailure, unimplemented = 0, 1, 2, 6, 7, 8, 10, 12

	reqHeaders, reqTrailers, respHeaders, respTrailers, callHeaders, callTrailers = 0, 1, 2, 3, 6, 7
	reqBody, respBody, callBody, vmConfig, pluginConfig, callData                 = 0, 1, 4, 6, 7, 8
)

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}

var (
	covered  = map[string]bool{}
	failures []string
	checks   int
)

func check(fn string, cond bool, format string, args ...any) {
	covered[fn] = true
	checks++
	if !cond {
		failures = append(failures, fn+": "+fmt.Sprintf(format, args...))
	}
}

func logf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	proxyLog(2, strPtr(s), uint32(len(s)))
}

// report logs the failures collected so far and how many checks ran.
func report() {
	for _, f := range failures {
		logf("FAIL %s", f)
	}
	if checks > 0 {
		logf("checks %d", checks)
	}
	failures, checks = nil, 0
}

func strPtr(s string) ptr {
	if s == "" {
		return nil
	}
	return ptr(unsafe.StringData(s))
}

func bytesPtr(b []byte) ptr {
	if len(b) == 0 {
		return nil
	}
	return ptr(&b[0])
}

// out receives a host-allocated value: the host writes the address into
// addr and the length into size.
type out struct{ addr, size uint32 }

func (o *out) p() ptr { return ptr(&o.addr) }

func (o *out) bytes() []byte {
	if o.size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(o.addr))), o.size)
}

// sentinel returns an out filled with values the host must overwrite.
func sentinel() out { return out{addr: 0xdead, size: 0xbeef} }

// Allocation: every block stays reachable so the host's pointers stay valid.
var (
	blocks      [][]byte
	allocProbe  bool // call the functions allowed during allocation
	allocBreach bool // call one that is not allowed: the host must trap
)

//go:wasmexport proxy_on_memory_allocate
func onMemoryAllocate(n uint32) *byte {
	if allocProbe {
		allocProbe = false
		var t uint64
		msg := "allocating"
		iov := [2]uint32{uint32(uintptr(unsafe.Pointer(unsafe.StringData(msg)))), uint32(len(msg))}
		var written, events uint32
		var sub [48]byte
		var ev [32]byte
		r1 := clockTimeGet(0, 0, &t)
		r2 := fdWrite(1, ptr(&iov), 1, &written)
		r3 := pollOneoff(ptr(&sub), ptr(&ev), 1, &events)
		r4 := proxyLog(2, strPtr(msg), uint32(len(msg)))
		check("proxy_on_memory_allocate", r1 == 0 && r2 == 0 && r3 == 0 && r4 == 0,
			"allowed calls during allocation answered %d %d %d %d", r1, r2, r3, r4)
	}
	if allocBreach {
		allocBreach = false
		var t uint64
		currentTimeNanos(&t) // restricted: traps
	}
	b := make([]byte, n)
	blocks = append(blocks, b)
	return &b[0]
}

// Pairs encoding, written independently of the host's codec.
func encodePairs(pairs [][2]string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(pairs)))
	for _, p := range pairs {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p[0])))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p[1])))
	}
	for _, p := range pairs {
		b = append(append(append(append(b, p[0]...), 0), p[1]...), 0)
	}
	return b
}

func decodePairs(b []byte) ([][2]string, bool) {
	if len(b) < 4 {
		return nil, len(b) == 0
	}
	n := int(binary.LittleEndian.Uint32(b))
	if 4+8*n > len(b) {
		return nil, false
	}
	data := b[4+8*n:]
	out := make([][2]string, n)
	for i := range n {
		kl := int(binary.LittleEndian.Uint32(b[4+8*i:]))
		vl := int(binary.LittleEndian.Uint32(b[8+8*i:]))
		if kl+vl+2 > len(data) || data[kl] != 0 || data[kl+1+vl] != 0 {
			return nil, false
		}
		out[i] = [2]string{string(data[:kl]), string(data[kl+1 : kl+1+vl])}
		data = data[kl+vl+2:]
	}
	return out, len(data) == 0
}

// Host-call wrappers.

func header(t uint32, k string) (string, uint32) {
	o := sentinel()
	st := getHeaderMapValue(t, strPtr(k), uint32(len(k)), o.p(), &o.size)
	return string(o.bytes()), st
}

func pairs(t uint32) ([][2]string, uint32, bool) {
	o := sentinel()
	st := getHeaderMapPairs(t, o.p(), &o.size)
	if st != ok {
		return nil, st, true
	}
	if o.size == 0 && o.addr != 0 {
		return nil, st, false
	}
	p, good := decodePairs(o.bytes())
	return p, st, good
}

func buffer(t, start, n uint32) ([]byte, uint32) {
	o := sentinel()
	st := getBufferBytes(t, start, n, o.p(), &o.size)
	return append([]byte(nil), o.bytes()...), st
}

func property(path ...string) ([]byte, uint32) {
	p := strings.Join(path, "\x00")
	o := sentinel()
	st := getProperty(strPtr(p), uint32(len(p)), o.p(), &o.size)
	return append([]byte(nil), o.bytes()...), st
}

func sendLocal(status uint32, body string, hdrs [][2]string) uint32 {
	h := encodePairs(hdrs)
	d := "conformance"
	return sendLocalResponse(status, strPtr(d), uint32(len(d)), strPtr(body), uint32(len(body)), bytesPtr(h), uint32(len(h)), -1)
}

func addHeader(t uint32, k, v string) uint32 {
	return addHeaderMapValue(t, strPtr(k), uint32(len(k)), strPtr(v), uint32(len(v)))
}

func define(kind uint32, name string) uint32 {
	var id uint32
	defineMetric(kind, strPtr(name), uint32(len(name)), &id)
	return id
}

func setBody(t, start, n uint32, data string) uint32 {
	return setBufferBytes(t, start, n, strPtr(data), uint32(len(data)))
}
