package envoy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBootstrapClusters: Bootstrap.Clusters adds upstreams the plugin's HTTP
// calls can name, plain or over TLS with the server's certificate checked
// against a CA and a subject alternative name; Envoy accepts the result
// (checked with `envoy --mode validate` when TOKENGATE_ENVOY and
// TOKENGATE_WASM are set).
func TestBootstrapClusters(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	wasm := os.Getenv("TOKENGATE_WASM") // Envoy loads the module when it validates
	if wasm == "" {
		wasm = "/tokengate.wasm"
	}
	base := Bootstrap{AdminPort: 9901, ListenPort: 10000, UpstreamPort: 9000, WasmPath: wasm,
		PluginConfig: `{"providers": {"op": {"type": "passphrase", "passphrase": "0123456789abcdef"}}}`}
	tests := []struct {
		name     string
		clusters []Cluster
		want     []string // substrings of the bootstrap
		absent   []string
		err      string
	}{
		{name: "a plain cluster", clusters: []Cluster{{Name: "idp", Port: 8080}},
			want: []string{`- name: "idp"`, `cluster_name: "idp"`, `port_value: 8080`}, absent: []string{"UpstreamTlsContext"}},
		{name: "TLS to an IP address", clusters: []Cluster{{Name: "idp", Port: 8443, CAFile: ca}},
			want:   []string{"UpstreamTlsContext", `trusted_ca: {filename: "` + ca + `"}`, `san_type: IP_ADDRESS, matcher: {exact: "127.0.0.1"}`},
			absent: []string{"sni:"}},
		{name: "TLS to a DNS name, sent as SNI", clusters: []Cluster{{Name: "idp", Port: 8443, CAFile: ca, SAN: "idp.example.com"}},
			want: []string{`sni: "idp.example.com"`, `san_type: DNS, matcher: {exact: "idp.example.com"}`}},
		{name: "two clusters", clusters: []Cluster{{Name: "a", Port: 1}, {Name: "b", Port: 2}}, want: []string{`- name: "a"`, `- name: "b"`}},
		{name: "no name", clusters: []Cluster{{Port: 1}}, err: "needs a Name"},
		{name: "a name of the bootstrap's own", clusters: []Cluster{{Name: "upstream", Port: 1}}, err: "is taken"},
		{name: "a name twice", clusters: []Cluster{{Name: "a", Port: 1}, {Name: "a", Port: 2}}, err: "is taken"},
		{name: "no port", clusters: []Cluster{{Name: "a"}}, err: "not a TCP port"},
		{name: "a SAN without TLS", clusters: []Cluster{{Name: "a", Port: 1, SAN: "x"}}, err: "needs CAFile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base
			b.Clusters = tt.clusters
			out, err := Render(b)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("the bootstrap lacks %s:\n%s", w, out)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(string(out), a) {
					t.Errorf("the bootstrap has %s:\n%s", a, out)
				}
			}
			validate(t, out, ca)
		})
	}
}

// validate runs `envoy --mode validate` on a bootstrap when an Envoy binary
// and the module are given (TOKENGATE_ENVOY, TOKENGATE_WASM), with a real
// certificate at ca (Envoy reads the file when it loads the bootstrap).
func validate(t *testing.T, bootstrap []byte, ca string) {
	bin := os.Getenv("TOKENGATE_ENVOY")
	if bin == "" || os.Getenv("TOKENGATE_WASM") == "" {
		return
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bootstrap.yaml")
	if err := os.WriteFile(path, bootstrap, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--mode", "validate", "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("envoy --mode validate: %v\n%s", err, out)
	}
}
