package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tokengate/tokengate/internal/jsonstrict"

	"github.com/tokengate/tokengate/jwksfetch/internal/httpget"
)

// ErrIssuerMismatch means the document's issuer differs from the configured one.
var ErrIssuerMismatch = errors.New("discovery: issuer in the discovery document does not equal the configured issuer")

// ErrNoJWKSURI means the document has no usable jwks_uri.
var ErrNoJWKSURI = errors.New("discovery: discovery document has no jwks_uri; set jwks_uri for this provider")

// URL returns the discovery document URL for issuer.
func URL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// JWKSURI fetches issuer's discovery document and returns its jwks_uri, which
// must itself satisfy the HTTPS rule.
func JWKSURI(ctx context.Context, client *http.Client, issuer string, o httpget.Options) (string, error) {
	o.ETag = ""
	res, err := httpget.Get(ctx, client, URL(issuer), o)
	if err != nil {
		return "", err
	}
	if err := jsonstrict.Check(res.Body); err != nil {
		// Two "issuer" or "jwks_uri" members would let the document say two
		// things at once.
		return "", fmt.Errorf("discovery: %s is not a strict JSON discovery document: %w", URL(issuer), err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		return "", fmt.Errorf("discovery: %s is not a JSON discovery document: %w", URL(issuer), err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("%w: configured %q, document says %q", ErrIssuerMismatch, issuer, doc.Issuer)
	}
	if doc.JWKSURI == "" {
		return "", ErrNoJWKSURI
	}
	if err := httpget.CheckURL(doc.JWKSURI, o.InsecureAllowHTTP); err != nil {
		return "", fmt.Errorf("discovery: jwks_uri from %s: %w", URL(issuer), err)
	}
	if strings.HasPrefix(URL(issuer), "https://") && !strings.HasPrefix(strings.ToLower(doc.JWKSURI), "https://") {
		// A document fetched over TLS must not send the keys over plain
		// http, not even to loopback: that is a redirect in all but name.
		return "", fmt.Errorf("%w: discovery document %s names jwks_uri %s", httpget.ErrDowngrade, URL(issuer), doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}
