// Command guest is a small Proxy-Wasm filter used by the host tests.
package main

import "unsafe"

//go:wasmimport env proxy_log
func proxyLog(level uint32, p *byte, n uint32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func getBufferBytes(t, start, n uint32, pp *uint32, ps *uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func getHeader(t uint32, k *byte, kn uint32, vp *uint32, vn *uint32) uint32

//go:wasmimport env proxy_add_header_map_value
func addHeader(t uint32, k *byte, kn uint32, v *byte, vn uint32) uint32

//go:wasmimport env proxy_send_local_response
func sendLocal(status uint32, d *byte, dn uint32, b *byte, bn uint32, h *byte, hn uint32, grpc int32) uint32

//go:wasmimport env proxy_define_metric
func defineMetric(t uint32, n *byte, nn uint32, id *uint32) uint32

//go:wasmimport env proxy_increment_metric
func incMetric(id uint32, d int64) uint32

//go:wasmimport env proxy_set_shared_data
func setShared(k *byte, kn uint32, v *byte, vn uint32, cas uint32) uint32

//go:wasmimport env proxy_get_property
func getProperty(p *byte, pn uint32, vp *uint32, vn *uint32) uint32

func main() {}

//go:wasmimport env proxy_get_current_time_nanoseconds
func currentTime(t *uint64) uint32

var misbehave bool

var keep = map[*byte][]byte{}

//go:wasmexport proxy_on_memory_allocate
func alloc(n uint32) *byte {
	if misbehave {
		var now uint64
		currentTime(&now) // not allowed while allocating: the host must trap
	}
	b := make([]byte, n)
	keep[&b[0]] = b
	return &b[0]
}

func ptr(s string) (*byte, uint32) {
	if s == "" {
		return nil, 0
	}
	return unsafe.StringData(s), uint32(len(s))
}

func strAt(p, n uint32) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n))
}

func log(s string) { p, n := ptr(s); proxyLog(2, p, n) }

var requests uint32

//go:wasmexport proxy_on_context_create
func onContextCreate(id, parent uint32) {}

//go:wasmexport proxy_on_vm_start
func onVMStart(id, size uint32) uint32 { return 1 }

//go:wasmexport proxy_on_configure
func onConfigure(id, size uint32) uint32 {
	var p, n uint32
	if getBufferBytes(7, 0, size, &p, &n) != 0 {
		return 0
	}
	cfg := strAt(p, n)
	if cfg == "reject" {
		log("configuration rejected: " + cfg)
		return 0
	}
	np, nn := ptr("requests")
	defineMetric(0, np, nn, &requests)
	log("configured: " + cfg)
	return 1
}

func header(name string) (string, bool) {
	kp, kn := ptr(name)
	var vp, vn uint32
	if getHeader(0, kp, kn, &vp, &vn) != 0 {
		return "", false
	}
	return strAt(vp, vn), true
}

//go:wasmexport proxy_on_request_headers
func onRequestHeaders(id, n, eos uint32) uint32 {
	incMetric(requests, 1)
	path, _ := header(":path")
	switch path {
	case "/restricted":
		misbehave = true
		header("x-empty-not")
		header(":method")
		misbehave = false
	case "/trap":
		panic("guest asked to trap")
	case "/deny":
		b, bn := ptr(`{"error":"denied"}`)
		h := []byte{1, 0, 0, 0, 12, 0, 0, 0, 16, 0, 0, 0}
		h = append(h, "content-type\x00application/json\x00"...)
		sendLocal(403, nil, 0, b, bn, &h[0], uint32(len(h)), -1)
		return 1
	case "/empty":
		// An empty header value must come back as pointer 0, size 0.
		kp, kn := ptr("x-empty")
		vp, vn := uint32(1), uint32(9)
		getHeader(0, kp, kn, &vp, &vn)
		if vp != 0 || vn != 0 {
			log("empty value not returned as 0/0")
			return 1
		}
	case "/cas":
		k, kl := ptr("k")
		v, vl := ptr("v")
		if setShared(k, kl, v, vl, 0) != 0 || setShared(k, kl, v, vl, 999) != 8 {
			log("shared data CAS misbehaved")
			return 1
		}
	case "/prop":
		pp, pn := ptr("plugin_name")
		var vp, vn uint32
		getProperty(pp, pn, &vp, &vn)
		log("plugin_name=" + strAt(vp, vn))
	}
	k, kn := ptr("x-seen")
	v, vn := ptr(path)
	addHeader(0, k, kn, v, vn)
	return 0
}

//go:wasmexport proxy_on_done
func onDone(id uint32) uint32 { return 1 }

//go:wasmexport proxy_abi_version_0_2_1
func abiVersion() {}
