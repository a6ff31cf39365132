package wasmoci

import "testing"

func TestPlainHTTPIsOnlyUsedWhenAskedOrOnLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ref       string
		plainHTTP bool
		scheme    string
	}{
		{"a remote registry is spoken to over HTTPS", "registry.example.com/t:v1", false, "https"},
		{"--plain-http speaks HTTP to a remote registry", "registry.example.com:5000/t:v1", true, "http"},
		{"a loopback registry is spoken to over HTTP", "127.0.0.1:5000/t:v1", false, "http"},
		{"Istio's oci:// prefix is accepted", "oci://registry.example.com/t:v1", false, "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := remoteSettings{plainHTTP: tt.plainHTTP}.parseRef(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Context().Registry.Scheme(); got != tt.scheme {
				t.Fatalf("scheme %s, want %s", got, tt.scheme)
			}
		})
	}
	t.Run("a malformed reference says what a reference looks like", func(t *testing.T) {
		if _, err := (remoteSettings{}).parseRef("Not A Ref"); err == nil {
			t.Fatal("accepted")
		}
	})
}
