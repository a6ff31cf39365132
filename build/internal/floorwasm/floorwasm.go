package floorwasm

import "encoding/binary"

// What the floor sets, and the metrics it defines.
const (
	RemovedHeader = "authorization"
	SetHeader     = "x-user"
	SetValue      = "alice"
	FlushEvery    = 64   // as metrics.FlushEvery
	TickMillis    = 1000 // as metrics.TickMillis
)

// Counters are the metrics the floor defines and flushes.
var Counters = []string{"floor.requests.allowed", "floor.provider.allowed", "floor.cache.hits"}

// Memory layout: out-parameters at the bottom, then constant strings, then
// the arena proxy_on_memory_allocate serves from, reset at every callback.
const (
	addrOutPtr   = 0
	addrOutSize  = 4
	addrNanos    = 8
	addrMetricID = 16 // one i32 per counter
	addrStrings  = 64
	arenaBase    = 4096
)

// Value types and opcodes used below.
const (
	i32 = 0x7f
	i64 = 0x7e

	opIf          = 0x04
	opEnd         = 0x0b
	opCall        = 0x10
	opDrop        = 0x1a
	opLocalGet    = 0x20
	opLocalSet    = 0x21
	opGlobalGet   = 0x23
	opGlobalSet   = 0x24
	opI32Load     = 0x28
	opMemorySize  = 0x3f
	opMemoryGrow  = 0x40
	opI32Const    = 0x41
	opI32Eqz      = 0x45
	opI32GeU      = 0x4f
	opI32GtU      = 0x4b
	opI32Add      = 0x6a
	opI32Sub      = 0x6b
	opI32And      = 0x71
	opI32Shl      = 0x74
	opI32ShrU     = 0x76
	opI64ExtendU  = 0xad
	blockTypeVoid = 0x40
)

type funcType struct{ params, results []byte }

// The signatures, by index in the type section.
var types = []funcType{
	{nil, nil},                           // 0: ()
	{[]byte{i32}, []byte{i32}},           // 1: (i32) i32
	{[]byte{i32, i32, i32}, []byte{i32}}, // 2: (i32 i32 i32) i32
	{[]byte{i32, i32, i32, i32, i32}, []byte{i32}},
	{[]byte{i32, i64}, []byte{i32}},           // 4
	{[]byte{i32, i32, i32, i32}, []byte{i32}}, // 5
	{[]byte{i32, i32}, nil},                   // 6
	{[]byte{i32, i32}, []byte{i32}},           // 7
	{[]byte{i32}, nil},                        // 8
	{[]byte{i32, i32, i32, i32, i32}, nil},    // 9
}

// The imported host functions, in function-index order (0…6), with the
// signatures Envoy links (internal/envoyabi).
const (
	fnGetHeaderMapPairs = iota
	fnGetCurrentTime
	fnRemoveHeader
	fnReplaceHeader
	fnIncrementMetric
	fnDefineMetric
	fnSetTickPeriod
	numImports
)

var imports = []struct {
	name string
	typ  byte
}{
	{"proxy_get_header_map_pairs", 2},
	{"proxy_get_current_time_nanoseconds", 1},
	{"proxy_remove_header_map_value", 2},
	{"proxy_replace_header_map_value", 3},
	{"proxy_increment_metric", 4},
	{"proxy_define_metric", 5},
	{"proxy_set_tick_period_milliseconds", 1},
}

// Globals: the arena's next free byte, and the requests not yet flushed.
const (
	globalBump = iota
	globalCount
)

type function struct {
	export string // "" for an internal function
	typ    byte
	locals []byte // one i32 or i64 per local
	body   []byte
}

// Module returns the floor module's bytes.
func Module() []byte {
	strs := stringTable()
	flush := uint32(numImports + len(functions(strs, 0)) - 1) // the last function
	fns := functions(strs, flush)

	var m []byte
	m = append(m, 0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00)

	var sec []byte
	sec = uleb(sec, uint64(len(types)))
	for _, t := range types {
		sec = append(sec, 0x60)
		sec = vecBytes(sec, t.params)
		sec = vecBytes(sec, t.results)
	}
	m = section(m, 1, sec)

	sec = uleb(nil, uint64(len(imports)))
	for _, im := range imports {
		sec = name(sec, "env")
		sec = name(sec, im.name)
		sec = append(sec, 0x00, im.typ)
	}
	m = section(m, 2, sec)

	sec = uleb(nil, uint64(len(fns)))
	for _, f := range fns {
		sec = append(sec, f.typ)
	}
	m = section(m, 3, sec)

	m = section(m, 5, []byte{1, 0x00, 2}) // one memory, 2 pages, growable

	sec = uleb(nil, 2)
	for _, init := range []int32{arenaBase, 0} {
		sec = append(sec, i32, 0x01, opI32Const)
		sec = sleb(sec, int64(init))
		sec = append(sec, opEnd)
	}
	m = section(m, 6, sec)

	exports := 1 // memory
	for _, f := range fns {
		if f.export != "" {
			exports++
		}
	}
	sec = uleb(nil, uint64(exports))
	sec = name(sec, "memory")
	sec = append(sec, 0x02, 0x00)
	for i, f := range fns {
		if f.export != "" {
			sec = name(sec, f.export)
			sec = append(sec, 0x00)
			sec = uleb(sec, uint64(numImports+i))
		}
	}
	m = section(m, 7, sec)

	sec = uleb(nil, uint64(len(fns)))
	for _, f := range fns {
		var body []byte
		body = uleb(body, uint64(len(f.locals)))
		for _, l := range f.locals {
			body = append(body, 1, l)
		}
		body = append(body, f.body...)
		body = append(body, opEnd)
		sec = uleb(sec, uint64(len(body)))
		sec = append(sec, body...)
	}
	m = section(m, 10, sec)

	sec = uleb(nil, 1)
	sec = append(sec, 0x00, opI32Const)
	sec = sleb(sec, addrStrings)
	sec = append(sec, opEnd)
	sec = vecBytes(sec, strs.data)
	return section(m, 11, sec)
}

// strTable places the constant strings from addrStrings on.
type strTable struct {
	data []byte
	addr map[string]int32
}

func stringTable() strTable {
	t := strTable{addr: map[string]int32{}}
	for _, s := range append([]string{RemovedHeader, SetHeader, SetValue}, Counters...) {
		t.addr[s] = addrStrings + int32(len(t.data))
		t.data = append(t.data, s...)
	}
	return t
}

// functions returns the module's functions; flush is the index of the last,
// which the others call.
func functions(strs strTable, flush uint32) []function {
	var reset []byte // the arena is reclaimed at every callback
	reset = i32c(reset, arenaBase)
	reset = append(reset, opGlobalSet, globalBump)

	var configure []byte
	configure = append(configure, reset...)
	for k, c := range Counters {
		configure = i32c(configure, 0) // counter
		configure = i32c(configure, strs.addr[c])
		configure = i32c(configure, int32(len(c)))
		configure = i32c(configure, addrMetricID+4*int32(k))
		configure = call(configure, fnDefineMetric)
		configure = append(configure, opDrop)
	}
	configure = i32c(configure, TickMillis)
	configure = call(configure, fnSetTickPeriod)
	configure = append(configure, opDrop)
	configure = i32c(configure, 1)

	var headers []byte
	headers = append(headers, reset...)
	headers = i32c(headers, 0) // request headers
	headers = i32c(headers, addrOutPtr)
	headers = i32c(headers, addrOutSize)
	headers = call(headers, fnGetHeaderMapPairs)
	headers = append(headers, opDrop)
	headers = i32c(headers, addrNanos)
	headers = call(headers, fnGetCurrentTime)
	headers = append(headers, opDrop)
	headers = i32c(headers, 0)
	headers = i32c(headers, strs.addr[RemovedHeader])
	headers = i32c(headers, int32(len(RemovedHeader)))
	headers = call(headers, fnRemoveHeader)
	headers = append(headers, opDrop)
	headers = i32c(headers, 0)
	headers = i32c(headers, strs.addr[SetHeader])
	headers = i32c(headers, int32(len(SetHeader)))
	headers = i32c(headers, strs.addr[SetValue])
	headers = i32c(headers, int32(len(SetValue)))
	headers = call(headers, fnReplaceHeader)
	headers = append(headers, opDrop)
	// count++; if count >= FlushEvery { flush() }
	headers = append(headers, opGlobalGet, globalCount)
	headers = i32c(headers, 1)
	headers = append(headers, opI32Add, opGlobalSet, globalCount, opGlobalGet, globalCount)
	headers = i32c(headers, FlushEvery)
	headers = append(headers, opI32GeU, opIf, blockTypeVoid)
	headers = call(headers, flush)
	headers = append(headers, opEnd)
	headers = i32c(headers, 0) // ActionContinue

	// proxy_on_memory_allocate(size): p := bump; bump = (bump+size+7)&^7;
	// grow the memory if bump passed its end; return p.
	var alloc []byte
	alloc = append(alloc, opGlobalGet, globalBump, opLocalSet, 1)
	alloc = append(alloc, opGlobalGet, globalBump, opLocalGet, 0, opI32Add)
	alloc = i32c(alloc, 7)
	alloc = append(alloc, opI32Add)
	alloc = i32c(alloc, -8)
	alloc = append(alloc, opI32And, opGlobalSet, globalBump)
	alloc = append(alloc, opGlobalGet, globalBump, opMemorySize, 0x00)
	alloc = i32c(alloc, 16)
	alloc = append(alloc, opI32Shl, opI32GtU, opIf, blockTypeVoid)
	alloc = append(alloc, opGlobalGet, globalBump, opMemorySize, 0x00)
	alloc = i32c(alloc, 16)
	alloc = append(alloc, opI32Shl, opI32Sub)
	alloc = i32c(alloc, 0xffff)
	alloc = append(alloc, opI32Add)
	alloc = i32c(alloc, 16)
	alloc = append(alloc, opI32ShrU, opMemoryGrow, 0x00, opDrop, opEnd)
	alloc = append(alloc, opLocalGet, 1)

	// flush(): if count != 0 { increment each counter by count; count = 0 }
	var fl []byte
	fl = append(fl, opGlobalGet, globalCount, opI32Eqz)
	fl = append(fl, opIf, blockTypeVoid, 0x0f /* return */, opEnd)
	for k := range Counters {
		fl = i32c(fl, addrMetricID+4*int32(k))
		fl = append(fl, opI32Load, 2, 0) // align 4, offset 0
		fl = append(fl, opGlobalGet, globalCount, opI64ExtendU)
		fl = call(fl, fnIncrementMetric)
		fl = append(fl, opDrop)
	}
	fl = i32c(fl, 0)
	fl = append(fl, opGlobalSet, globalCount)

	var tick []byte
	tick = append(tick, reset...)
	tick = call(tick, flush)

	return []function{
		{export: "_initialize", typ: 0},
		{export: "proxy_abi_version_0_2_1", typ: 0},
		{export: "proxy_on_context_create", typ: 6, body: reset},
		{export: "proxy_on_vm_start", typ: 7, body: i32c(nil, 1)},
		{export: "proxy_on_configure", typ: 7, body: configure},
		{export: "proxy_on_tick", typ: 8, body: tick},
		{export: "proxy_on_http_call_response", typ: 9, body: reset},
		{export: "proxy_on_request_headers", typ: 2, body: headers},
		{export: "proxy_on_delete", typ: 8, body: reset},
		{export: "proxy_on_memory_allocate", typ: 1, locals: []byte{i32}, body: alloc},
		{typ: 0, body: fl}, // flush: last, see Module
	}
}

func i32c(b []byte, v int32) []byte { return sleb(append(b, opI32Const), int64(v)) }

func call(b []byte, fn uint32) []byte { return uleb(append(b, opCall), uint64(fn)) }

func section(m []byte, id byte, body []byte) []byte {
	m = append(m, id)
	m = uleb(m, uint64(len(body)))
	return append(m, body...)
}

func name(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }

func vecBytes(b, v []byte) []byte { return append(uleb(b, uint64(len(v))), v...) }

func uleb(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func sleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
