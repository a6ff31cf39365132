package host

// FilterStatePrefix starts the name Envoy gives a property a module sets
// with proxy_set_property: Envoy keeps it in the request's filter state as
// "wasm.<path>" (source/extensions/common/wasm/context.cc, setProperty), and
// Envoy's RBAC filter and access log address it by that name.
const FilterStatePrefix = "wasm."

// FilterState returns the properties the plugin set on this stream, keyed
// by the name Envoy gives them in its filter state ("wasm." and the path,
// e.g. "wasm.tokengate.sub"), so that a test or a Go program can check what
// Envoy's RBAC filter and access log would see. The plugin reads them back
// with proxy_get_property under the path it set. The map is a copy.
func (s *Stream) FilterState() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.props))
	for k, v := range s.props {
		out[FilterStatePrefix+k] = string(v)
	}
	return out
}
