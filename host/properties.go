package host

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tokengate/tokengate/internal/abi"
)

// Connection describes the downstream connection of a stream, for the
// source.*, destination.* and connection.* properties.
type Connection struct {
	Source, Destination netip.AddrPort
	TLS                 bool
	ServerName          string // TLS SNI
	TLSVersion          string // e.g. "TLSv1.3"
	Protocol            string // e.g. "HTTP/1.1"
}

// Property values use Envoy's encoding: strings as their bytes, integers
// as 8-byte little-endian int64, booleans as one byte, header maps as
// pairs.
func int64Bytes(n int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(n)) }

func boolBytes(b bool) []byte {
	if b {
		return []byte{1}
	}
	return []byte{0}
}

func propertyKey(path string) string { return strings.TrimSuffix(path, "\x00") }

// property answers proxy_get_property for a NUL-separated path.
func (v *vm) property(path string) ([]byte, bool) {
	b, ok := v.attribute(path)
	if !ok {
		return nil, false
	}
	return b, true
}

func (v *vm) attribute(path string) ([]byte, bool) {
	key := propertyKey(path)
	s := v.streamInScope()
	if s != nil {
		if b, ok := s.props[key]; ok {
			return b, true
		}
	}
	if b, ok := v.props[key]; ok {
		return b, true
	}
	seg := strings.Split(key, "\x00")
	switch seg[0] {
	case "plugin_name":
		return []byte(v.p.cfg.name), true
	case "plugin_root_id":
		return []byte(v.p.cfg.rootID), true
	case "plugin_vm_id":
		return []byte(v.p.cfg.vmID), true
	}
	if s == nil || len(seg) < 2 {
		return nil, false
	}
	req := s.hdr[abi.MapHTTPRequestHeaders]
	hdr := func(hm [][2]string, name string) ([]byte, bool) {
		val, ok := lookup(hm, name)
		return []byte(val), ok
	}
	switch seg[0] + "." + seg[1] {
	case "request.path":
		return hdr(req, ":path")
	case "request.url_path":
		p, ok := lookup(req, ":path")
		p, _, _ = strings.Cut(p, "?")
		return []byte(p), ok
	case "request.query":
		p, ok := lookup(req, ":path")
		_, q, _ := strings.Cut(p, "?")
		return []byte(q), ok
	case "request.method":
		return hdr(req, ":method")
	case "request.host":
		return hdr(req, ":authority")
	case "request.scheme":
		return hdr(req, ":scheme")
	case "request.referer":
		return hdr(req, "referer")
	case "request.useragent":
		return hdr(req, "user-agent")
	case "request.id":
		return hdr(req, "x-request-id")
	case "request.protocol":
		return []byte(s.conn.Protocol), s.conn.Protocol != ""
	case "request.time":
		return int64Bytes(s.start.UnixNano()), true
	case "request.size":
		return int64Bytes(int64(len(s.reqBody))), true
	case "request.headers", "response.headers", "response.trailers", "request.trailers":
		t := map[string]uint32{"request.headers": abi.MapHTTPRequestHeaders, "response.headers": abi.MapHTTPResponseHeaders,
			"request.trailers": abi.MapHTTPRequestTrailers, "response.trailers": abi.MapHTTPResponseTrailers}[seg[0]+"."+seg[1]]
		if !s.have[t] {
			return nil, false
		}
		if len(seg) == 3 {
			return hdr(s.hdr[t], seg[2])
		}
		return abi.EncodePairs(s.hdr[t]), true
	case "response.code":
		c, ok := lookup(s.hdr[abi.MapHTTPResponseHeaders], ":status")
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseInt(c, 10, 64)
		return int64Bytes(n), err == nil
	case "response.size":
		return int64Bytes(int64(len(s.respBody))), s.have[abi.MapHTTPResponseHeaders]
	case "source.address":
		return []byte(s.conn.Source.String()), s.conn.Source.IsValid()
	case "source.port":
		return int64Bytes(int64(s.conn.Source.Port())), s.conn.Source.IsValid()
	case "destination.address":
		return []byte(s.conn.Destination.String()), s.conn.Destination.IsValid()
	case "destination.port":
		return int64Bytes(int64(s.conn.Destination.Port())), s.conn.Destination.IsValid()
	case "connection.mtls":
		return boolBytes(false), true
	case "connection.tls_version":
		return []byte(s.conn.TLSVersion), s.conn.TLS
	case "connection.requested_server_name":
		return []byte(s.conn.ServerName), true
	}
	return nil, false
}

// setProperty stores a guest-defined property on the stream in scope, or on
// the root context; Envoy keeps such values in the stream's filter state.
func (v *vm) setProperty(path string, val []byte) {
	if s := v.streamInScope(); s != nil {
		if s.props == nil {
			s.props = map[string][]byte{} // most streams set none
		}
		s.props[propertyKey(path)] = val
		return
	}
	v.props[propertyKey(path)] = val
}
