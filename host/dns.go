package host

import (
	"context"
	"encoding/binary"
	"net/netip"
)

// resolveDNS implements envoy_resolve_dns: the lookup runs in the
// background and envoy_on_resolve_dns(root, token, size) reports it, with the
// answer in buffer type 8 encoded as Envoy does: u32 count, count u32 TTLs,
// then each address as "ip:port" (port 0) followed by a NUL. A failed lookup
// is reported with size 0. Like Envoy's DnsLookupFamily::Auto, IPv6
// addresses are preferred and IPv4 is used when there are none. The Go
// resolver does not expose record TTLs, so every TTL is 0.
func (v *vm) resolveDNS(name string) uint32 {
	v.dnsToken++
	if v.dnsToken == 0 {
		v.dnsToken++
	}
	tok, root := v.dnsToken, v.rootID
	v.addOutstanding()
	r := v.p.cfg.resolver
	go func() {
		v.post(event{kind: evDNS, ctxID: root, token: tok, dns: lookupAuto(v.life, r, name)})
		v.kick()
	}()
	return tok
}

func lookupAuto(ctx context.Context, r Resolver, name string) []byte {
	addrs, err := r.LookupNetIP(ctx, "ip6", name)
	if err != nil || len(addrs) == 0 {
		addrs, err = r.LookupNetIP(ctx, "ip4", name)
	}
	if err != nil || len(addrs) == 0 {
		return nil
	}
	return encodeDNS(addrs)
}

func encodeDNS(addrs []netip.Addr) []byte {
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(addrs)))
	for range addrs {
		out = binary.LittleEndian.AppendUint32(out, 0)
	}
	for _, a := range addrs {
		out = append(out, netip.AddrPortFrom(a.Unmap(), 0).String()...)
		out = append(out, 0)
	}
	return out
}
