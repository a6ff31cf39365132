package jwksfetch

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tokengate/tokengate/internal/jsonstrict"
)

// fetchSettings is a provider's "fetch" object. The plugin ignores it.
type fetchSettings struct {
	AllowInsecureHTTP bool    `json:"allow_insecure_http"`
	CAFile            string  `json:"ca_file"`
	CertFile          string  `json:"cert_file"`
	KeyFile           string  `json:"key_file"`
	ServerName        string  `json:"server_name"`
	TimeoutSeconds    float64 `json:"timeout_seconds"`
	RefreshSeconds    float64 `json:"refresh_seconds"`
	RefreshMinSeconds float64 `json:"refresh_min_seconds"`
	RefreshMaxSeconds float64 `json:"refresh_max_seconds"`
	MaxStaleSeconds   float64 `json:"max_stale_seconds"`
}

type providerConfig struct {
	Type    string          `json:"type"`
	Issuer  string          `json:"issuer"`
	JWKSURI string          `json:"jwks_uri"`
	JWKS    json.RawMessage `json:"jwks"`
	Fetch   fetchSettings   `json:"fetch"`

	// A multi-tenant provider: Issuer is a template (tenant.go).
	Tenants    []string        `json:"tenants"`
	TenantJWKS json.RawMessage `json:"tenant_jwks"`
}

// document is a parsed plugin configuration, kept as raw JSON so that
// rendering changes nothing but the "jwks" members it fills in.
type document struct {
	top       map[string]json.RawMessage
	providers map[string]map[string]json.RawMessage
	fetched   []string // providers whose key set jwksfetch fetches, sorted
	configs   map[string]providerConfig
	tenants   map[string]*tenantProvider // multi-tenant providers whose tenants' key sets it fetches (tenant.go)
}

func parseDocument(config []byte) (*document, error) {
	d := &document{configs: map[string]providerConfig{}, providers: map[string]map[string]json.RawMessage{}, tenants: map[string]*tenantProvider{}}
	// The plugin's strict reader first, so that both sides read the same
	// document: encoding/json alone would take the last of two "corp"
	// providers or two "issuer"s, the plugin would refuse them.
	if err := jsonstrict.Check(config); err != nil {
		return nil, fmt.Errorf("jwksfetch: configuration: %w", err)
	}
	if err := json.Unmarshal(config, &d.top); err != nil || d.top == nil {
		if err == nil {
			err = errors.New("null")
		}
		return nil, fmt.Errorf("jwksfetch: configuration is not a JSON object: %w", err)
	}
	var provs map[string]json.RawMessage
	if err := json.Unmarshal(d.top["providers"], &provs); err != nil || provs == nil {
		return nil, errors.New("jwksfetch: configuration field \"providers\" must be an object keyed by provider name")
	}
	for name, raw := range provs {
		var members map[string]json.RawMessage
		var p providerConfig
		if err := json.Unmarshal(raw, &members); err != nil || members == nil {
			return nil, fmt.Errorf("jwksfetch: providers.%s must be an object", name)
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
		}
		d.providers[name] = members
		if p.Type != "passphrase" && p.multiTenant() {
			// One key set per tenant, each fetched as a provider of its
			// own named "<name>/<tenant>".
			if err := d.addTenants(name, p); err != nil {
				return nil, err
			}
			continue
		}
		if p.Type == "passphrase" || p.Type == "introspection" || len(p.JWKS) > 0 && string(p.JWKS) != "null" {
			continue // a passphrase has no keys, an introspection provider asks its endpoint; inline keys are the user's
		}
		if p.JWKSURI == "" && p.Issuer == "" {
			return nil, fmt.Errorf("jwksfetch: providers.%s: needs \"jwks\", \"jwks_uri\" or \"issuer\"", name)
		}
		d.configs[name] = p
		d.fetched = append(d.fetched, name)
	}
	if err := d.checkTenantNames(); err != nil {
		return nil, err
	}
	sort.Strings(d.fetched)
	return d, nil
}

// render returns the configuration with jwks[name] filled in for every
// fetched provider that has a key set, and without "jwks" for those that
// have none, so that the plugin answers their tokens with 503. A
// multi-tenant provider gets "tenant_jwks" the same way, from the sets of
// its tenants (tenant.go).
func (d *document) render(jwks map[string]json.RawMessage) ([]byte, error) {
	provs := make(map[string]json.RawMessage, len(d.providers))
	for name, members := range d.providers {
		if _, fetched := d.configs[name]; fetched {
			m := make(map[string]json.RawMessage, len(members)+1)
			for k, v := range members {
				m[k] = v
			}
			if set, ok := jwks[name]; ok && set != nil {
				m["jwks"] = set
			} else {
				delete(m, "jwks")
			}
			members = m
		} else if tp, ok := d.tenants[name]; ok {
			var err error
			if members, err = tp.render(name, members, jwks); err != nil {
				return nil, err
			}
		}
		raw, err := json.Marshal(members)
		if err != nil {
			return nil, fmt.Errorf("jwksfetch: rendering providers.%s: %w", name, err)
		}
		provs[name] = raw
	}
	top := make(map[string]json.RawMessage, len(d.top))
	for k, v := range d.top {
		top[k] = v
	}
	raw, err := json.Marshal(provs)
	if err != nil {
		return nil, fmt.Errorf("jwksfetch: rendering providers: %w", err)
	}
	top["providers"] = raw
	out, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("jwksfetch: rendering configuration: %w", err)
	}
	return out, nil
}

// policy is a provider's effective refresh policy.
type policy struct {
	interval, min, max, maxStale time.Duration
}

func seconds(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }

func (f fetchSettings) policy(s *settings) (policy, error) {
	for _, v := range []struct {
		name string
		val  float64
	}{{"refresh_seconds", f.RefreshSeconds}, {"refresh_min_seconds", f.RefreshMinSeconds}, {"refresh_max_seconds", f.RefreshMaxSeconds}, {"max_stale_seconds", f.MaxStaleSeconds}, {"timeout_seconds", f.TimeoutSeconds}} {
		if v.val < 0 {
			return policy{}, fmt.Errorf("fetch.%s must not be negative", v.name)
		}
	}
	p := policy{interval: s.refresh, min: s.refreshMin, max: s.refreshMax, maxStale: s.maxStale}
	if f.RefreshSeconds > 0 {
		p.interval = seconds(f.RefreshSeconds)
	}
	if f.RefreshMinSeconds > 0 {
		p.min = seconds(f.RefreshMinSeconds)
	}
	if f.RefreshMaxSeconds > 0 {
		p.max = seconds(f.RefreshMaxSeconds)
	}
	if f.MaxStaleSeconds > 0 {
		p.maxStale = seconds(f.MaxStaleSeconds)
	}
	if p.min > p.max {
		return policy{}, fmt.Errorf("fetch.refresh_min_seconds (%v) must not exceed refresh_max_seconds (%v)", p.min, p.max)
	}
	if p.interval < p.min || p.interval > p.max {
		return policy{}, fmt.Errorf("fetch.refresh_seconds (%v) must lie between refresh_min_seconds (%v) and refresh_max_seconds (%v)", p.interval, p.min, p.max)
	}
	return p, nil
}
