package jwksfetch

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"
)

// hasTransportSettings reports whether the provider needs its own client.
func (f fetchSettings) hasTransportSettings() bool {
	return f.CAFile != "" || f.CertFile != "" || f.KeyFile != "" || f.ServerName != "" || f.TimeoutSeconds > 0
}

// client builds an HTTP client from the provider's "fetch" settings: a CA
// bundle that replaces the system roots, a client certificate for mTLS, a
// server name for verification and a timeout.
func (f fetchSettings) client() (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("fetch.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("fetch.ca_file %s holds no PEM certificate", f.CAFile)
		}
		tc.RootCAs = pool
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, fmt.Errorf("fetch.cert_file and fetch.key_file must be set together")
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("fetch.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	timeout := 10 * time.Second
	if f.TimeoutSeconds > 0 {
		timeout = time.Duration(f.TimeoutSeconds * float64(time.Second))
	}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tc}}, nil
}
