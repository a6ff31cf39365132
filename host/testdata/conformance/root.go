package main

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"unsafe"
)

// Package initialisation runs inside _initialize, under Envoy's init
// allowlist. It calls allowed functions; with CONFORMANCE_TRAP_INIT in the
// environment it also calls a forbidden one, which must trap.
func init() {
	var count, size uint32
	environSizesGet(&count, &size)
	env := make([]byte, size+1)
	ptrs := make([]uint32, count+1)
	environGet(ptr(&ptrs[0]), ptr(&env[0]))
	var t uint64
	clockTimeGet(0, 0, &t)
	var rnd [8]byte
	randomGet(ptr(&rnd[0]), 8)
	msg := "conformance initialising"
	proxyLog(2, strPtr(msg), uint32(len(msg)))
	if strings.Contains(string(env), "CONFORMANCE_TRAP_INIT=") {
		var now uint64
		currentTimeNanos(&now) // not allowed during _initialize
	}
}

var (
	roots      = map[uint32]bool{}   // live root contexts on this VM
	configs    = map[uint32]string{} // configuration of each root context
	starts     int                   // proxy_on_vm_start calls on this VM
	rootID     uint32
	config     string
	queueToken uint32
	ticks      uint32
	unique     string
)

func randomName(prefix string) string {
	var b [6]byte
	randomGet(ptr(&b[0]), uint32(len(b)))
	return prefix + hex.EncodeToString(b[:])
}

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {
	if parent == 0 {
		rootID = id
		roots[id] = true
	}
}

//go:wasmexport proxy_on_vm_start
func onVMStart(root, size uint32) uint32 {
	cfg, st := buffer(vmConfig, 0, size)
	check("proxy_on_vm_start", st == ok && len(cfg) == int(size), "vm configuration %q (%d), size %d", cfg, st, size)
	now, _ := strconv.ParseUint(strings.TrimPrefix(string(cfg), "now="), 10, 64)
	starts++
	logf("vm_start #%d for root context %d", starts, root)
	unique = randomName("")
	rootChecks(root, now, uint32(len(cfg)))
	wasiChecks(now)
	report()
	return 1
}

//go:wasmexport proxy_on_configure
func onConfigure(root, size uint32) uint32 {
	b, st := buffer(pluginConfig, 0, size)
	config = string(b)
	configs[root] = config
	check("proxy_get_buffer_bytes", st == ok && len(b) == int(size), "plugin configuration %q (%d)", b, st)
	var bs, flags uint32
	check("proxy_get_buffer_status", getBufferStatus(pluginConfig, &bs, &flags) == ok && bs == size, "configuration size %d", bs)
	q := "conformance"
	check("proxy_register_shared_queue", registerSharedQueue(strPtr(q), uint32(len(q)), &queueToken) == ok && queueToken != 0,
		"register gave token %d", queueToken)
	define(0, "ticks")
	define(0, "queue_ready")
	report()
	switch config {
	case "reject":
		logf("configuration rejected")
		return 0
	case "tick":
		check("proxy_set_tick_period_milliseconds", setTickPeriod(1000) == ok, "set tick period")
	case "alloc-probe":
		allocProbe = true
	}
	report()
	return 1
}

//go:wasmexport proxy_on_tick
func onTick(root uint32) {
	check("proxy_on_tick", root == rootID, "tick for context %d, root is %d", root, rootID)
	_, st, _ := pairs(reqHeaders)
	check("proxy_get_header_map_pairs", st == badArgument, "a root context has request headers (%d)", st)
	ticks++
	incrementMetric(define(0, "ticks"), 1)
	logf("tick %d", ticks)
	report()
}

//go:wasmexport proxy_on_queue_ready
func onQueueReady(root, token uint32) {
	check("proxy_on_queue_ready", roots[root], "queue ready for context %d, which is no root context", root)
	for {
		o := sentinel()
		st := dequeueSharedQueue(token, o.p(), &o.size)
		if st == empty {
			break
		}
		check("proxy_dequeue_shared_queue", st == ok, "dequeue %d", st)
		if st != ok {
			break
		}
		item := string(o.bytes())
		logf("queue ready: %s", item)
		incrementMetric(define(0, "queue_ready"), 1)
		if item == "linger" {
			st := proxyDone()
			check("proxy_done", st == ok, "proxy_done of a lingering root context %d gave %d", root, st)
			if st == ok {
				logf("proxy_done ok")
			}
		}
	}
	report()
}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 {
	if configs[id] != "linger" {
		return 1
	}
	q := randomName("linger-")
	var tok uint32
	registerSharedQueue(strPtr(q), uint32(len(q)), &tok)
	it := "linger"
	enqueueSharedQueue(tok, strPtr(it), uint32(len(it)))
	logf("root context lingers")
	return 0
}

//go:wasmexport proxy_on_delete
func onDelete(id uint32) {
	if roots[id] {
		delete(roots, id)
		logf("root context deleted")
	}
}

// rootChecks exercises every host function that works without a stream.
func rootChecks(root uint32, now uint64, vmConfigSize uint32) {
	check("pthread_equal", pthreadEqual(3, 3) == 1 && pthreadEqual(3, 4) == 0, "pthread_equal")
	notifyMemoryGrowth(0)
	check("emscripten_notify_memory_growth", true, "")
	m := "log line"
	check("proxy_log", proxyLog(2, strPtr(m), uint32(len(m))) == ok, "proxy_log")
	check("proxy_log", proxyLog(9, strPtr(m), uint32(len(m))) == badArgument, "level 9 is not BAD_ARGUMENT")
	check("proxy_log", proxyLog(2, ptr(uintptr(0xfffffff0)), 64) == invalidMemory, "a message outside memory is not INVALID_MEMORY_ACCESS")
	var level uint32
	check("proxy_get_log_level", getLogLevel(&level) == ok && level == 1, "log level %d", level)
	var t uint64
	check("proxy_get_current_time_nanoseconds", currentTimeNanos(&t) == ok && t == now, "time %d, want %d", t, now)

	code := uint32(7)
	o := sentinel()
	check("proxy_get_status", getStatus(&code, o.p(), &o.size) == ok && code == 0 && o.addr == 0 && o.size == 0,
		"status %d %x/%d", code, o.addr, o.size)

	// Properties.
	name, st := property("plugin_name")
	check("proxy_get_property", st == ok && string(name) == "conformance", "plugin_name %q (%d)", name, st)
	vmid, st := property("plugin_vm_id")
	check("proxy_get_property", st == ok && strings.HasPrefix(string(vmid), "conformance"), "plugin_vm_id %q (%d)", vmid, st)
	rid, st := property("plugin_root_id")
	check("proxy_get_property", st == ok && string(rid) == "conformance-root", "plugin_root_id %q (%d)", rid, st)
	_, st = property("no", "such", "attribute")
	check("proxy_get_property", st == notFound, "unknown attribute gave %d", st)
	pk, pv := "my\x00prop", "value"
	check("proxy_set_property", setProperty(strPtr(pk), uint32(len(pk)), strPtr(pv), uint32(len(pv))) == ok, "set_property")
	got, st := property("my", "prop")
	check("proxy_get_property", st == ok && string(got) == pv, "my.prop %q (%d)", got, st)
	ek := "empty\x00prop"
	setProperty(strPtr(ek), uint32(len(ek)), nil, 0)
	o = sentinel()
	st = getProperty(strPtr(ek), uint32(len(ek)), o.p(), &o.size)
	check("proxy_get_property", st == ok && o.addr == 0 && o.size == 0, "an empty value came back as %x/%d (%d)", o.addr, o.size, st)

	check("proxy_send_local_response", sendLocal(403, "no", nil) == badArgument, "a root context answered a request")

	sharedDataChecks()
	queueChecks(string(vmid))
	metricChecks()

	check("proxy_set_effective_context", setEffectiveContext(root) == ok, "root context refused")
	check("proxy_set_effective_context", setEffectiveContext(9999) == badArgument, "unknown context accepted")
	check("proxy_done", proxyDone() == notFound, "proxy_done without a pending on_done")

	foreignChecks()

	check("proxy_continue_stream", continueStream(0) == badArgument, "continue_stream in a root context")
	check("proxy_continue_stream", continueStream(9) == badArgument, "stream type 9")
	check("proxy_close_stream", closeStream(0) == badArgument, "close_stream in a root context")
	check("proxy_close_stream", closeStream(9) == badArgument, "stream type 9")

	// Header maps do not exist for a root context; type 99 never does.
	_, st, _ = pairs(reqHeaders)
	check("proxy_get_header_map_pairs", st == badArgument, "root request headers gave %d", st)
	var size uint32
	check("proxy_get_header_map_size", getHeaderMapSize(99, &size) == badArgument, "map type 99")
	_, st = header(callHeaders, ":status")
	check("proxy_get_header_map_value", st == badArgument, "call response headers outside the callback gave %d", st)
	check("proxy_add_header_map_value", addHeader(reqHeaders, "a", "b") == badArgument, "add in a root context")
	k := "a"
	check("proxy_replace_header_map_value", replaceHeaderMapValue(reqHeaders, strPtr(k), 1, strPtr(k), 1) == badArgument, "replace in a root context")
	check("proxy_remove_header_map_value", removeHeaderMapValue(reqHeaders, strPtr(k), 1) == badArgument, "remove in a root context")
	e := encodePairs(nil)
	check("proxy_set_header_map_pairs", setHeaderMapPairs(reqHeaders, bytesPtr(e), uint32(len(e))) == badArgument, "set pairs in a root context")

	// Buffers.
	var bs, flags uint32
	check("proxy_get_buffer_status", getBufferStatus(99, &bs, &flags) == badArgument, "buffer type 99")
	check("proxy_get_buffer_status", getBufferStatus(vmConfig, &bs, &flags) == ok && bs == vmConfigSize && flags == 0, "vm configuration status %d", bs)
	_, st = buffer(reqBody, 0, 10)
	check("proxy_get_buffer_bytes", st == notFound, "a root context has a request body (%d)", st)
	_, st = buffer(callBody, 0, 10)
	check("proxy_get_buffer_bytes", st == notFound, "call response body outside the callback (%d)", st)
	_, st = buffer(callData, 0, 10)
	check("proxy_get_buffer_bytes", st == notFound, "call data outside a callback (%d)", st)
	head, st := buffer(vmConfig, 0, 3)
	check("proxy_get_buffer_bytes", st == ok && string(head) == "now", "first 3 bytes %q", head)
	o = sentinel()
	st = getBufferBytes(vmConfig, vmConfigSize, 10, o.p(), &o.size)
	check("proxy_get_buffer_bytes", st == ok && o.addr == 0 && o.size == 0, "reading at the end gave %x/%d (%d)", o.addr, o.size, st)
	_, st = buffer(vmConfig, vmConfigSize+1, 1)
	check("proxy_get_buffer_bytes", st == badArgument, "reading past the end gave %d", st)
	check("proxy_set_buffer_bytes", setBody(vmConfig, 0, 0, "x") == badArgument, "the VM configuration is writable")
	check("proxy_set_buffer_bytes", setBody(2, 0, 0, "x") == notFound, "downstream data exists in an HTTP filter")
	check("proxy_set_buffer_bytes", setBody(99, 0, 0, "x") == badArgument, "buffer type 99")

	// Callouts that fail before they start; gRPC is not offered.
	var tok uint32
	hs := encodePairs([][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "x"}})
	up := "no-such-upstream"
	check("proxy_http_call", httpCall(strPtr(up), uint32(len(up)), bytesPtr(hs), uint32(len(hs)), nil, 0, nil, 0, 100, &tok) == badArgument,
		"unknown upstream accepted")
	noPath := encodePairs([][2]string{{":method", "GET"}, {":authority", "x"}})
	up = "backend"
	check("proxy_http_call", httpCall(strPtr(up), uint32(len(up)), bytesPtr(noPath), uint32(len(noPath)), nil, 0, nil, 0, 100, &tok) == badArgument,
		"a call without :path accepted")
	s := "svc"
	check("proxy_grpc_call", grpcCall(strPtr(s), 3, strPtr(s), 3, strPtr(s), 3, nil, 0, nil, 0, 100, &tok) == unimplemented, "grpc_call")
	check("proxy_grpc_stream", grpcStream(strPtr(s), 3, strPtr(s), 3, strPtr(s), 3, nil, 0, &tok) == unimplemented, "grpc_stream")
	check("proxy_grpc_send", grpcSend(1, strPtr(s), 3, 0) == unimplemented, "grpc_send")
	check("proxy_grpc_cancel", grpcCancel(1) == unimplemented, "grpc_cancel")
	check("proxy_grpc_close", grpcClose(1) == unimplemented, "grpc_close")
	check("proxy_set_tick_period_milliseconds", setTickPeriod(0) == ok, "stopping ticks")
}

func sharedDataChecks() {
	k := "key-" + unique
	get := func(key string) (string, uint32, uint32, out) {
		o := sentinel()
		var cas uint32
		st := getSharedData(strPtr(key), uint32(len(key)), o.p(), &o.size, &cas)
		return string(o.bytes()), cas, st, o
	}
	set := func(key, val string, cas uint32) uint32 {
		return setSharedData(strPtr(key), uint32(len(key)), strPtr(val), uint32(len(val)), cas)
	}
	_, _, st, _ := get(k)
	check("proxy_get_shared_data", st == notFound, "missing key gave %d", st)
	check("proxy_set_shared_data", set(k, "v1", 0) == ok, "first set")
	v, c1, st, _ := get(k)
	check("proxy_get_shared_data", st == ok && v == "v1" && c1 != 0, "got %q cas %d (%d)", v, c1, st)
	check("proxy_set_shared_data", set(k, "v2", c1+1000) == casMismatch, "a wrong cas was accepted")
	check("proxy_set_shared_data", set(k, "v2", c1) == ok, "the current cas was refused")
	v, c2, _, _ := get(k)
	check("proxy_get_shared_data", v == "v2" && c2 != c1, "after CAS set: %q cas %d (was %d)", v, c2, c1)
	check("proxy_set_shared_data", set(k, "v3", c1) == casMismatch, "a stale cas was accepted")
	check("proxy_set_shared_data", set("fresh-"+unique, "x", 12345) == ok, "a new key refused a cas")
	check("proxy_set_shared_data", set(k, "", 0) == ok, "setting an empty value")
	_, _, st, o := get(k)
	check("proxy_get_shared_data", st == ok && o.addr == 0 && o.size == 0, "empty value came back as %x/%d (%d)", o.addr, o.size, st)
}

func queueChecks(vmid string) {
	q := "probe-" + unique
	var t1, t2, t3 uint32
	check("proxy_register_shared_queue", registerSharedQueue(strPtr(q), uint32(len(q)), &t1) == ok && t1 != 0, "register")
	registerSharedQueue(strPtr(q), uint32(len(q)), &t2)
	check("proxy_register_shared_queue", t2 == t1, "registering again gave a new token %d != %d", t2, t1)
	check("proxy_resolve_shared_queue", resolveSharedQueue(strPtr(vmid), uint32(len(vmid)), strPtr(q), uint32(len(q)), &t3) == ok && t3 == t1,
		"resolve gave %d, want %d", t3, t1)
	no := "no-such-queue"
	check("proxy_resolve_shared_queue", resolveSharedQueue(strPtr(vmid), uint32(len(vmid)), strPtr(no), uint32(len(no)), &t3) == notFound, "unknown queue resolved")
	o := sentinel()
	check("proxy_dequeue_shared_queue", dequeueSharedQueue(t1, o.p(), &o.size) == empty, "an empty queue is not EMPTY")
	check("proxy_dequeue_shared_queue", dequeueSharedQueue(999999, o.p(), &o.size) == notFound, "unknown token")
	check("proxy_enqueue_shared_queue", enqueueSharedQueue(999999, strPtr(q), 1) == notFound, "unknown token")
	item := "item-1"
	check("proxy_enqueue_shared_queue", enqueueSharedQueue(t1, strPtr(item), uint32(len(item))) == ok, "enqueue")
	check("proxy_enqueue_shared_queue", enqueueSharedQueue(t1, nil, 0) == ok, "enqueue an empty item")
	o = sentinel()
	st := dequeueSharedQueue(t1, o.p(), &o.size)
	check("proxy_dequeue_shared_queue", st == ok && string(o.bytes()) == item, "dequeued %q (%d)", o.bytes(), st)
	o = sentinel()
	st = dequeueSharedQueue(t1, o.p(), &o.size)
	check("proxy_dequeue_shared_queue", st == ok && o.addr == 0 && o.size == 0, "empty item came back as %x/%d (%d)", o.addr, o.size, st)
}

func metricChecks() {
	c := define(0, "counter-"+unique)
	var again, bogus uint32
	n := "counter-" + unique
	defineMetric(0, strPtr(n), uint32(len(n)), &again)
	check("proxy_define_metric", c != 0 && again == c, "ids %d and %d", c, again)
	check("proxy_define_metric", defineMetric(7, strPtr(n), uint32(len(n)), &bogus) == badArgument, "metric type 7")
	check("proxy_increment_metric", incrementMetric(c, 5) == ok, "increment counter")
	check("proxy_increment_metric", incrementMetric(c, -1) == badArgument, "a counter went down")
	check("proxy_record_metric", recordMetric(c, 2) == ok, "record counter")
	var v uint64
	check("proxy_get_metric", getMetric(c, &v) == ok && v == 7, "counter is %d, want 7", v)
	g := define(1, "gauge-"+unique)
	incrementMetric(g, -3)
	check("proxy_get_metric", getMetric(g, &v) == ok && int64(v) == -3, "gauge is %d, want -3", int64(v))
	check("proxy_record_metric", recordMetric(g, 10) == ok && getMetric(g, &v) == ok && v == 10, "gauge after record is %d", v)
	h := define(2, "histogram-"+unique)
	check("proxy_record_metric", recordMetric(h, 42) == ok, "record histogram")
	check("proxy_increment_metric", incrementMetric(h, 1) == badArgument, "histogram increment")
	check("proxy_get_metric", getMetric(h, &v) == badArgument, "histogram read back")
	check("proxy_get_metric", getMetric(999999, &v) == notFound, "unknown metric")
}

func foreignChecks() {
	call := func(name, arg string) (string, uint32, out) {
		o := sentinel()
		st := callForeign(strPtr(name), uint32(len(name)), strPtr(arg), uint32(len(arg)), o.p(), &o.size)
		return string(o.bytes()), st, o
	}
	r, st, _ := call("echo", "abc")
	check("proxy_call_foreign_function", st == ok && r == "abc", "echo gave %q (%d)", r, st)
	_, st, o := call("echo", "")
	check("proxy_call_foreign_function", st == ok && o.addr == 0 && o.size == 0, "empty result came back as %x/%d", o.addr, o.size)
	_, st, _ = call("fails", "x")
	check("proxy_call_foreign_function", st == internalFailure, "failing function gave %d", st)
	_, st, _ = call("missing", "x")
	check("proxy_call_foreign_function", st == notFound, "missing function gave %d", st)
}

// le64 decodes an Envoy integer property.
func le64(b []byte) int64 {
	if len(b) != 8 {
		return -1
	}
	return int64(binary.LittleEndian.Uint64(b))
}

var _ = unsafe.Pointer(nil)
