package host

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"testing"
)

// The destination of a TCP connection is what parsing its address string
// gives, as for any other net.Addr.
func TestConnectionOfDestination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		addr *net.TCPAddr
	}{
		{"IPv4 in 4 bytes", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1).To4(), Port: 8080}},
		{"IPv4 in 16 bytes, as listeners report it", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443}},
		{"IPv6", &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 80}},
		{"IPv6 with a zone", &net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 80, Zone: "eth0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tt.addr))
			want, err := netip.ParseAddrPort(tt.addr.String())
			if err != nil {
				t.Fatal(err)
			}
			if got := connectionOf(r).Destination; got != want {
				t.Errorf("Destination = %v, want %v", got, want)
			}
		})
	}
}

// rebuildRequest gives the upstream the plugin's headers under their
// canonical names, repeated names in order, and a value slice of one name
// can grow without touching another's.
func TestRebuildRequestHeaders(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/a?b=c", nil)
	pairs := [][2]string{{":method", "GET"}, {":path", "/a?b=c"}, {":authority", "example.com"}, {":scheme", "http"},
		{"authorization", "Bearer t"}, {"x-user", "alice"}, {"accept", "a/b"}, {"x-user", "bob"}, {"x-custom_name", "v"}}
	r2, err := rebuildRequest(r, pairs)
	if err != nil {
		t.Fatal(err)
	}
	want := http.Header{"Authorization": {"Bearer t"}, "X-User": {"alice", "bob"}, "Accept": {"a/b"}, "X-Custom_name": {"v"}}
	if !reflect.DeepEqual(r2.Header, want) {
		t.Fatalf("Header = %v, want %v", r2.Header, want)
	}
	r2.Header.Add("Authorization", "second")
	if got := r2.Header.Values("Accept"); !reflect.DeepEqual(got, []string{"a/b"}) {
		t.Errorf("adding to Authorization changed Accept to %v", got)
	}
	if r2.Host != "example.com" {
		t.Errorf("Host = %q, want example.com", r2.Host)
	}
}
