package host

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestWithoutHopByHop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{name: "a request without hop-by-hop headers is left alone",
			in:   http.Header{"X-User": {"forged"}, "Authorization": {"Bearer t"}},
			want: http.Header{"X-User": {"forged"}, "Authorization": {"Bearer t"}}},
		{name: "a header named in Connection is removed with Connection",
			in:   http.Header{"Connection": {"X-User"}, "X-User": {"forged"}, "Accept": {"*/*"}},
			want: http.Header{"Accept": {"*/*"}}},
		{name: "every header of every Connection line is removed, whatever its case and spacing",
			in:   http.Header{"Connection": {" x-user ,,Authorization", "x-tenant"}, "X-User": {"a"}, "Authorization": {"Bearer t"}, "X-Tenant": {"b"}, "X-Keep": {"c"}},
			want: http.Header{"X-Keep": {"c"}}},
		{name: "the RFC 2616 hop-by-hop headers are removed without being named",
			in: http.Header{"Keep-Alive": {"timeout=5"}, "Proxy-Connection": {"keep-alive"}, "Proxy-Authorization": {"Basic eDp5"},
				"Transfer-Encoding": {"chunked"}, "Trailer": {"X-Sum"}, "Te": {"gzip"}, "Upgrade": {"h2c"}, "X-Keep": {"c"}},
			want: http.Header{"X-Keep": {"c"}}},
		{name: "TE keeps only trailers",
			in:   http.Header{"Te": {"gzip;q=0.5, trailers", "deflate"}},
			want: http.Header{"Te": {"trailers"}}},
		{name: "a protocol upgrade keeps Connection: Upgrade and its Upgrade header only",
			in:   http.Header{"Connection": {"Upgrade, X-User"}, "Upgrade": {"websocket"}, "X-User": {"forged"}, "Sec-Websocket-Key": {"k"}},
			want: http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Key": {"k"}}},
		{name: "an Upgrade header without Connection: upgrade is removed",
			in:   http.Header{"Upgrade": {"websocket"}, "Connection": {"keep-alive"}},
			want: http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/x", nil)
			r.Header = tt.in.Clone()
			got := withoutHopByHop(r)
			if !reflect.DeepEqual(got.Header, tt.want) {
				t.Errorf("headers = %v, want %v", got.Header, tt.want)
			}
			if !reflect.DeepEqual(r.Header, tt.in) {
				t.Errorf("the incoming request was modified: %v", r.Header)
			}
		})
	}
}
