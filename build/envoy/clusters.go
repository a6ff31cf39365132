package envoy

import (
	"errors"
	"fmt"
	"net/netip"
)

// Cluster is an upstream on a loopback port that the plugin's HTTP calls
// can name. With CAFile it is reached over TLS: the server's certificate
// must chain to CAFile and carry Name as a subject alternative name
// (ServerName, default 127.0.0.1: an IP address, or a DNS name, which is
// then also sent as SNI). Without CAFile it is plain HTTP.
type Cluster struct {
	Name   string // the name the plugin configuration uses ("cluster")
	Port   int
	CAFile string // PEM: the certificates the server's must chain to
	SAN    string // the name the server's certificate must carry; default 127.0.0.1
}

// ServerName is the name the server's certificate must carry.
func (c Cluster) ServerName() string {
	if c.SAN == "" {
		return "127.0.0.1"
	}
	return c.SAN
}

// SANType is how Envoy matches ServerName: IP_ADDRESS or DNS.
func (c Cluster) SANType() string {
	if _, err := netip.ParseAddr(c.ServerName()); err == nil {
		return "IP_ADDRESS"
	}
	return "DNS"
}

// reserved are the bootstrap's own cluster names.
var reserved = map[string]bool{"upstream": true, "jwksfetch": true, "wasm_origin": true, "jwksfetch_xds": true}

func checkClusters(cs []Cluster) error {
	seen := map[string]bool{}
	for _, c := range cs {
		switch {
		case c.Name == "":
			return errors.New("envoy: a Cluster needs a Name (the plugin configuration's \"cluster\")")
		case reserved[c.Name] || seen[c.Name]:
			return fmt.Errorf("envoy: cluster name %q is taken (the bootstrap's own, or given twice)", c.Name)
		case c.Port <= 0 || c.Port > 65535:
			return fmt.Errorf("envoy: cluster %q: port %d is not a TCP port", c.Name, c.Port)
		case c.SAN != "" && c.CAFile == "":
			return fmt.Errorf("envoy: cluster %q: SAN applies to TLS, which needs CAFile", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}
