package main

import (
	"encoding/binary"
	"sort"
	"strings"
)

var (
	paths   = map[uint32]string{} // stream context -> request path
	pending = map[uint32]uint32{} // callout token -> stream context
)

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(ctx, n, eos uint32) uint32 {
	defer report()
	path, st := header(reqHeaders, ":path")
	check("proxy_get_header_map_value", st == ok, ":path gave %d", st)
	paths[ctx] = path
	switch path {
	case "/headers":
		headerChecks(ctx, n)
	case "/setpairs":
		np := [][2]string{{":path", "/rewritten"}, {"X-New", "v"}}
		e := encodePairs(np)
		check("proxy_set_header_map_pairs", setHeaderMapPairs(reqHeaders, bytesPtr(e), uint32(len(e))) == ok, "set pairs")
		got, st, good := pairs(reqHeaders)
		check("proxy_get_header_map_pairs", st == ok && good && len(got) == 2 && got[0] == np[0] && got[1] == [2]string{"x-new", "v"},
			"after set: %q", got)
	case "/malformed":
		junk := []byte{5, 0, 0, 0, 1, 0}
		check("proxy_set_header_map_pairs", setHeaderMapPairs(reqHeaders, bytesPtr(junk), uint32(len(junk))) == ok, "malformed pairs")
		var size uint32
		getHeaderMapSize(reqHeaders, &size)
		got, _, _ := pairs(reqHeaders)
		check("proxy_set_header_map_pairs", len(got) == 0 && size == 4, "a malformed buffer left %q (size %d)", got, size)
	case "/local":
		check("proxy_send_local_response", sendLocal(418, "short and stout", [][2]string{{"x-teapot", "yes"}}) == ok, "local response")
		return 0 // the local response wins over Continue
	case "/close":
		check("proxy_close_stream", closeStream(0) == ok, "close_stream")
	case "/pause":
		return 1
	case "/alloc-probe":
		allocProbe = true
		header(reqHeaders, ":method")
		check("proxy_on_memory_allocate", !allocProbe, "the probe did not run")
	case "/alloc-breach":
		allocBreach = true
		header(reqHeaders, ":method")
	case "/trap":
		panic("asked to trap")
	case "/enqueue":
		item := "msg-" + unique
		check("proxy_enqueue_shared_queue", enqueueSharedQueue(queueToken, strPtr(item), uint32(len(item))) == ok, "enqueue")
	case "/callout", "/callout-down", "/callout-slow":
		return callout(ctx, path)
	case "/dns", "/dns-fail":
		name := "svc.test"
		if path == "/dns-fail" {
			name = "fail.test"
		}
		var tok uint32
		check("envoy_resolve_dns", resolveDNS(strPtr(name), uint32(len(name)), &tok) == ok && tok != 0, "resolve gave token %d", tok)
		pending[tok] = ctx
		return 1
	case "/report":
		names := make([]string, 0, len(covered))
		for n := range covered {
			names = append(names, n)
		}
		sort.Strings(names)
		logf("covered %s", strings.Join(names, ","))
	}
	return 0
}

func headerChecks(ctx, n uint32) {
	want := [][2]string{{":method", "GET"}, {":path", "/headers"}, {":authority", "example.test"}, {":scheme", "https"},
		{"x-one", "1"}, {"x-empty", ""}, {"x-gone", "bye"}}
	got, st, good := pairs(reqHeaders)
	same := st == ok && good && len(got) == len(want) && n == uint32(len(want))
	for i := 0; same && i < len(want); i++ {
		same = got[i] == want[i]
	}
	check("proxy_get_header_map_pairs", same, "pairs %q (%d, n=%d), want %q", got, st, n, want)
	v, st := header(reqHeaders, "X-One")
	check("proxy_get_header_map_value", st == ok && v == "1", "X-One gave %q (%d)", v, st)
	o := sentinel()
	k := "x-empty"
	st = getHeaderMapValue(reqHeaders, strPtr(k), uint32(len(k)), o.p(), &o.size)
	check("proxy_get_header_map_value", st == ok && o.addr == 0 && o.size == 0, "empty value came back as %x/%d (%d)", o.addr, o.size, st)
	_, st = header(reqHeaders, "x-missing")
	check("proxy_get_header_map_value", st == notFound, "missing header gave %d", st)
	var size uint32
	check("proxy_get_header_map_size", getHeaderMapSize(reqHeaders, &size) == ok && size == uint32(len(encodePairs(want))),
		"size %d, want %d", size, len(encodePairs(want)))
	check("proxy_add_header_map_value", addHeader(reqHeaders, "X-Add", "a") == ok, "add")
	one, two := "x-one", "2"
	check("proxy_replace_header_map_value", replaceHeaderMapValue(reqHeaders, strPtr(one), 5, strPtr(two), 1) == ok, "replace")
	gone := "X-Gone"
	check("proxy_remove_header_map_value", removeHeaderMapValue(reqHeaders, strPtr(gone), uint32(len(gone))) == ok, "remove")
	v, _ = header(reqHeaders, "x-one")
	check("proxy_replace_header_map_value", v == "2", "x-one is %q after replace", v)
	_, st, _ = pairs(respHeaders)
	check("proxy_get_header_map_pairs", st == badArgument, "response headers before the response gave %d", st)
	_, st, _ = pairs(reqTrailers)
	check("proxy_get_header_map_pairs", st == badArgument, "request trailers before they arrived gave %d", st)

	p, st := property("request", "path")
	check("proxy_get_property", st == ok && string(p) == "/headers", "request.path %q (%d)", p, st)
	p, st = property("request", "method")
	check("proxy_get_property", st == ok && string(p) == "GET", "request.method %q", p)
	p, st = property("request", "headers", "x-one")
	check("proxy_get_property", st == ok && string(p) == "2", "request.headers.x-one %q", p)
	p, st = property("request", "headers")
	hm, good := decodePairs(p)
	check("proxy_get_property", st == ok && good && len(hm) == 7, "request.headers decoded to %q", hm)
	p, st = property("source", "port")
	check("proxy_get_property", st == ok && le64(p) == 40000, "source.port %v (%d)", p, st)
	p, st = property("request", "time")
	check("proxy_get_property", st == ok && len(p) == 8, "request.time %v (%d)", p, st)
	pk, pv := "stream\x00prop", "s"
	setProperty(strPtr(pk), uint32(len(pk)), strPtr(pv), 1)
	p, _ = property("stream", "prop")
	check("proxy_set_property", string(p) == "s", "stream property %q", p)
	check("proxy_set_effective_context", setEffectiveContext(ctx) == ok, "own stream refused")
	o = sentinel()
	st = getBufferBytes(reqBody, 0, 100, o.p(), &o.size)
	check("proxy_get_buffer_bytes", st == ok && o.addr == 0 && o.size == 0, "empty body came back as %x/%d (%d)", o.addr, o.size, st)
}

//go:wasmexport proxy_on_request_body
func onRequestBody(ctx, size, eos uint32) uint32 {
	defer report()
	body, st := buffer(reqBody, 0, size)
	check("proxy_get_buffer_bytes", st == ok && len(body) == int(size), "body %q (%d), size %d", body, st, size)
	if eos == 0 {
		return 1 // buffer until the end
	}
	check("proxy_on_request_body", string(body) == "hello", "buffered body %q", body)
	check("proxy_set_buffer_bytes", setBody(reqBody, 0, 0, "<") == ok, "prepend")
	check("proxy_set_buffer_bytes", setBody(reqBody, 100, 0, ">") == ok, "append past the end")
	check("proxy_set_buffer_bytes", setBody(reqBody, 2, 1, "x") == badArgument, "replace in the middle")
	var bs, flags uint32
	getBufferStatus(reqBody, &bs, &flags)
	check("proxy_get_buffer_status", bs == 7, "body size %d after prepend and append", bs)
	check("proxy_set_buffer_bytes", setBody(reqBody, 0, 3, "[") == ok, "replace the first 3 bytes")
	return 0
}

//go:wasmexport proxy_on_request_trailers
func onRequestTrailers(ctx, n uint32) uint32 {
	defer report()
	got, st, good := pairs(reqTrailers)
	check("proxy_get_header_map_pairs", st == ok && good && len(got) == int(n) && n == 1 && got[0] == [2]string{"x-checksum", "abc"},
		"request trailers %q (n=%d)", got, n)
	addHeader(reqTrailers, "x-trailer-seen", "1")
	return 0
}

//go:wasmexport proxy_on_response_headers
func onResponseHeaders(ctx, n, eos uint32) uint32 {
	defer report()
	status, st := header(respHeaders, ":status")
	check("proxy_get_header_map_value", st == ok && status != "", "response :status %q (%d)", status, st)
	p, st := property("response", "code")
	check("proxy_get_property", st == ok && le64(p) > 0, "response.code %v (%d)", p, st)
	addHeader(respHeaders, "x-resp", paths[ctx])
	if status == "500" {
		sendLocal(503, "upstream failed", nil)
	}
	return 0
}

//go:wasmexport proxy_on_response_body
func onResponseBody(ctx, size, eos uint32) uint32 {
	defer report()
	if eos == 0 {
		return 1
	}
	body, _ := buffer(respBody, 0, size)
	check("proxy_set_buffer_bytes", setBody(respBody, 0, size, "filtered:"+string(body)) == ok, "replace the response body")
	return 0
}

//go:wasmexport proxy_on_response_trailers
func onResponseTrailers(ctx, n uint32) uint32 {
	addHeader(respTrailers, "x-rt", "1")
	return 0
}

//go:wasmexport proxy_on_log
func onLog(ctx uint32) {}

func callout(ctx uint32, path string) uint32 {
	up, timeout := "backend", uint32(5000)
	switch path {
	case "/callout-down":
		up = "down"
	case "/callout-slow":
		up, timeout = "slow", 50
	}
	hs := encodePairs([][2]string{{":method", "POST"}, {":path", "/data?x=1"}, {":authority", "backend.test"}, {"x-req", "r"}})
	tr := encodePairs([][2]string{{"x-req-trailer", "t"}})
	body := "ping"
	var tok uint32
	st := httpCall(strPtr(up), uint32(len(up)), bytesPtr(hs), uint32(len(hs)), strPtr(body), 4, bytesPtr(tr), uint32(len(tr)), timeout, &tok)
	check("proxy_http_call", st == ok && tok != 0, "http_call gave %d, token %d", st, tok)
	pending[tok] = ctx
	return 1
}

//go:wasmexport proxy_on_http_call_response
func onHTTPCallResponse(root, tok, nh, nb, nt uint32) {
	defer report()
	check("proxy_on_http_call_response", root == rootID, "delivered to context %d, root is %d", root, rootID)
	ctx, known := pending[tok]
	check("proxy_on_http_call_response", known, "unknown token %d", tok)
	delete(pending, tok)
	if nh == 0 {
		_, st, _ := pairs(callHeaders)
		check("proxy_get_header_map_pairs", st == ok || st == badArgument, "failed call headers gave %d", st)
		check("proxy_set_effective_context", setEffectiveContext(ctx) == ok, "stream context refused")
		status := uint32(502)
		if paths[ctx] == "/callout-slow" {
			status = 504
		}
		sendLocal(status, "callout failed", nil)
		return
	}
	hs, st, good := pairs(callHeaders)
	check("proxy_get_header_map_pairs", st == ok && good && len(hs) == int(nh) && hs[0][0] == ":status", "call headers %q", hs)
	status, _ := header(callHeaders, ":status")
	echo, _ := header(callHeaders, "x-echo")
	var size uint32
	check("proxy_get_header_map_size", getHeaderMapSize(callHeaders, &size) == ok && size == uint32(len(encodePairs(hs))), "size %d", size)
	body, st := buffer(callBody, 0, nb)
	check("proxy_get_buffer_bytes", st == ok && len(body) == int(nb), "call body %q (%d)", body, st)
	tr, _, _ := pairs(callTrailers)
	check("proxy_get_header_map_pairs", len(tr) == int(nt), "call trailers %q, nt %d", tr, nt)
	_, st = header(reqHeaders, ":path")
	check("proxy_get_header_map_value", st == badArgument, "a root context saw request headers before set_effective_context (%d)", st)
	check("proxy_set_effective_context", setEffectiveContext(ctx) == ok, "stream context refused")
	addHeader(reqHeaders, "x-callout", status+" "+echo+" "+string(body))
	check("proxy_continue_stream", continueStream(0) == ok, "continue_stream")
}

//go:wasmexport envoy_on_resolve_dns
func onResolveDNS(root, tok, size uint32) {
	defer report()
	ctx := pending[tok]
	delete(pending, tok)
	setEffectiveContext(ctx)
	if size == 0 {
		sendLocal(503, "dns failed", nil)
		return
	}
	b, st := buffer(callData, 0, size)
	check("proxy_get_buffer_bytes", st == ok && len(b) == int(size), "dns answer %v (%d)", b, st)
	n := int(binary.LittleEndian.Uint32(b))
	rest := b[4+4*n:]
	addrs := strings.Split(strings.TrimSuffix(string(rest), "\x00"), "\x00")
	check("envoy_resolve_dns", len(addrs) == n, "%d addresses for count %d", len(addrs), n)
	addHeader(reqHeaders, "x-dns", strings.Join(addrs, ","))
	continueStream(0)
}
