package jwksfetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/tokengate/tokengate/jwksfetch/internal/discovery"
	"github.com/tokengate/tokengate/jwksfetch/internal/httpget"
	"github.com/tokengate/tokengate/jwksfetch/internal/keyset"
)

// DefaultMaxKeys caps the number of keys accepted from one provider.
const DefaultMaxKeys = 100

type settings struct {
	client   *http.Client
	maxBytes int64
	maxKeys  int
}

// Option configures Once.
type Option func(*settings)

// WithHTTPClient sets the HTTP client used for discovery and key fetches.
// The default has a 10 s timeout and takes proxies from the environment.
func WithHTTPClient(c *http.Client) Option { return func(s *settings) { s.client = c } }

// WithMaxBytes caps each response body (default 1 MiB).
func WithMaxBytes(n int64) Option { return func(s *settings) { s.maxBytes = n } }

// WithMaxKeys caps the number of keys per provider (default DefaultMaxKeys).
func WithMaxKeys(n int) Option { return func(s *settings) { s.maxKeys = n } }

type fetchSettings struct {
	AllowInsecureHTTP bool    `json:"allow_insecure_http"`
	CAFile            string  `json:"ca_file"`
	CertFile          string  `json:"cert_file"`
	KeyFile           string  `json:"key_file"`
	ServerName        string  `json:"server_name"`
	TimeoutSeconds    float64 `json:"timeout_seconds"`
}

type provider struct {
	Issuer  string          `json:"issuer"`
	JWKSURI string          `json:"jwks_uri"`
	JWKS    json.RawMessage `json:"jwks"`
	Fetch   fetchSettings   `json:"fetch"`
}

// Once fetches the key set of every provider in config that has no inline
// "jwks" and returns config with those sets filled in. It fails, naming the
// provider, if any key set cannot be fetched; the caller keeps its previous
// configuration in that case.
func Once(ctx context.Context, config []byte, opts ...Option) ([]byte, []string, error) {
	s := settings{
		client:  &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}},
		maxKeys: DefaultMaxKeys,
	}
	for _, o := range opts {
		o(&s)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(config, &doc); err != nil {
		return nil, nil, fmt.Errorf("jwksfetch: configuration is not a JSON object: %w", err)
	}
	var provs map[string]json.RawMessage
	if err := json.Unmarshal(doc["providers"], &provs); err != nil || provs == nil {
		return nil, nil, errors.New("jwksfetch: configuration field \"providers\" must be an object keyed by provider name")
	}
	names := make([]string, 0, len(provs))
	for n := range provs {
		names = append(names, n)
	}
	sort.Strings(names)
	var warnings []string
	for _, name := range names {
		var p provider
		if err := json.Unmarshal(provs[name], &p); err != nil {
			return nil, nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
		}
		if len(p.JWKS) > 0 && string(p.JWKS) != "null" {
			continue
		}
		client := s.client
		if p.Fetch.hasTransportSettings() {
			c, err := p.Fetch.client()
			if err != nil {
				return nil, nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
			}
			client = c
		}
		o := httpget.Options{MaxBytes: s.maxBytes, InsecureAllowHTTP: p.Fetch.AllowInsecureHTTP}
		uri := p.JWKSURI
		if uri == "" {
			if p.Issuer == "" {
				return nil, nil, fmt.Errorf("jwksfetch: providers.%s: needs \"jwks\", \"jwks_uri\" or \"issuer\"", name)
			}
			var err error
			if uri, err = discovery.JWKSURI(ctx, client, p.Issuer, o); err != nil {
				return nil, nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
			}
		}
		res, err := httpget.Get(ctx, client, uri, o)
		if err != nil {
			return nil, nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
		}
		pub, warns, err := keyset.Public(res.Body, s.maxKeys)
		if err != nil {
			return nil, nil, fmt.Errorf("jwksfetch: providers.%s: key set from %s: %w", name, uri, err)
		}
		for _, w := range warns {
			warnings = append(warnings, fmt.Sprintf("providers.%s: %s", name, w))
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(provs[name], &raw); err != nil {
			return nil, nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
		}
		raw["jwks"] = pub
		if provs[name], err = json.Marshal(raw); err != nil {
			return nil, nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
		}
	}
	var err error
	if doc["providers"], err = json.Marshal(provs); err != nil {
		return nil, nil, fmt.Errorf("jwksfetch: rendering providers: %w", err)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("jwksfetch: rendering configuration: %w", err)
	}
	return out, warnings, nil
}
