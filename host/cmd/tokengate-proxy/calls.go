package main

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/refreshapi"
)

// callUpstreams are the upstreams the plugin's HTTP calls may name, as an
// Envoy bootstrap's clusters: a provider's introspection endpoint is called
// through the upstream its "introspection.cluster" names. Each maps a name
// to a base URL; the call's path is appended to it. TLS uses the system's
// trust store (SSL_CERT_FILE and SSL_CERT_DIR add to it).
type callUpstreams map[string]string

// String and Set make callUpstreams a repeatable flag: --call-upstream
// NAME=URL.
func (c *callUpstreams) String() string {
	if c == nil {
		return ""
	}
	var out []string
	for _, name := range c.names() {
		out = append(out, name+"="+(*c)[name])
	}
	return strings.Join(out, ",")
}

func (c *callUpstreams) Set(v string) error {
	name, base, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q is not NAME=URL, e.g. idp=https://idp.example.com", v)
	}
	if *c == nil {
		*c = callUpstreams{}
	}
	(*c)[name] = base
	return nil
}

// with returns c with the upstreams of flags added, replacing those of the
// same name.
func (c callUpstreams) with(flags callUpstreams) callUpstreams {
	if len(flags) == 0 {
		return c
	}
	out := callUpstreams{}
	for name, base := range c {
		out[name] = base
	}
	for name, base := range flags {
		out[name] = base
	}
	return out
}

func (c callUpstreams) names() []string {
	names := make([]string, 0, len(c))
	for name := range c {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// check refuses names and URLs the host could not offer.
func (c callUpstreams) check() error {
	for _, name := range c.names() {
		base := c[name]
		switch u, err := url.Parse(base); {
		case name == "":
			return errors.New("--call-upstream: an upstream needs a name (NAME=URL)")
		case name == refreshapi.Upstream:
			return fmt.Errorf("--call-upstream: %q is the in-process key fetcher's upstream; choose another name", name)
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			return fmt.Errorf("--call-upstream %s: %q is not an absolute http(s) URL like https://idp.example.com", name, base)
		}
	}
	return nil
}

// options offers each upstream to the plugin's HTTP calls.
func (c callUpstreams) options() []host.Option {
	var opts []host.Option
	for _, name := range c.names() {
		opts = append(opts, host.WithUpstream(name, c[name]))
	}
	return opts
}
