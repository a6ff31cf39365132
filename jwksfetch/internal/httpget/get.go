package httpget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// DefaultMaxBytes is the response size cap when Options.MaxBytes is zero.
const DefaultMaxBytes = 1 << 20

// ErrInsecureURL means a plain-http URL was used for a non-loopback host
// without the provider's allow_insecure_http escape hatch.
var ErrInsecureURL = errors.New("httpget: URL MUST use https (plain http is allowed only for loopback hosts or with allow_insecure_http)")

// ErrDowngrade means a redirect led from an https URL to a plain-http one.
// It is refused even where plain http would otherwise be allowed (loopback,
// allow_insecure_http): the operator who configured an https URL asked for
// TLS, and a redirect must not take it away. To fetch over plain http,
// configure the http URL itself.
var ErrDowngrade = errors.New("httpget: redirect from https to plain http refused; configure the final URL directly if plain http is really intended")

// ErrTooManyRedirects means a fetch was redirected more than MaxRedirects
// times.
var ErrTooManyRedirects = errors.New("httpget: too many redirects; configure the final URL directly")

// MaxRedirects is how many redirects one fetch follows. Identity providers
// redirect a key set URL once or twice at most; a longer chain is a
// misconfiguration or a loop.
const MaxRedirects = 5

// ErrTooLarge means the response body exceeded the size cap.
var ErrTooLarge = errors.New("httpget: response body exceeds the size cap")

// ErrStatus means the server answered with a status other than 200 or 304.
var ErrStatus = errors.New("httpget: unexpected HTTP status")

// Options tune one request.
type Options struct {
	ETag              string // sent as If-None-Match when set
	MaxBytes          int64  // body cap; 0 means DefaultMaxBytes
	InsecureAllowHTTP bool   // permit plain http to non-loopback hosts
}

// Result is a response that passed every check.
type Result struct {
	Body        []byte
	ETag        string
	Header      http.Header
	NotModified bool // 304: Body is empty, keep the previous one
}

// CheckURL reports whether raw may be fetched under the HTTPS rule.
func CheckURL(raw string, insecureAllowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("httpget: parsing URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if insecureAllowHTTP || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrInsecureURL, raw)
	default:
		return fmt.Errorf("httpget: URL %q has scheme %q; use https", raw, u.Scheme)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckRedirect returns a redirect policy for http.Client.CheckRedirect that
// applies the HTTPS rule of CheckURL to every hop, refuses any hop from https
// to plain http (ErrDowngrade), and stops after MaxRedirects hops
// (ErrTooManyRedirects). A hop that passes is then offered to next, the
// client's own policy, when it is not nil; with a nil next it is followed.
//
// Checking only the first URL is not enough: a key set URL that redirects
// to plain http would install keys fetched in clear text.
func CheckRedirect(insecureAllowHTTP bool, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("%w: stopped after %d redirects at %s", ErrTooManyRedirects, len(via), req.URL.Redacted())
		}
		if err := CheckURL(req.URL.String(), insecureAllowHTTP); err != nil {
			return fmt.Errorf("httpget: redirect from %s: %w", via[len(via)-1].URL.Redacted(), err)
		}
		if req.URL.Scheme == "http" {
			for _, prev := range via {
				if prev.URL.Scheme == "https" {
					return fmt.Errorf("%w: %s redirected to %s", ErrDowngrade, prev.URL.Redacted(), req.URL.Redacted())
				}
			}
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// Get fetches raw with client, enforcing the HTTPS rule (on raw and on every
// redirect, see CheckRedirect) and the size cap. client is not modified: Get
// uses a shallow copy whose CheckRedirect wraps client's own.
func Get(ctx context.Context, client *http.Client, raw string, o Options) (*Result, error) {
	if err := CheckURL(raw, o.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	max := o.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("httpget: building request for %s: %w", raw, err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	if o.ETag != "" {
		req.Header.Set("If-None-Match", o.ETag)
	}
	guarded := *client
	guarded.CheckRedirect = CheckRedirect(o.InsecureAllowHTTP, client.CheckRedirect)
	resp, err := guarded.Do(req)
	if err != nil {
		return nil, fmt.Errorf("httpget: GET %s: %w", raw, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && o.ETag != "" {
		etag := resp.Header.Get("ETag")
		if etag == "" {
			etag = o.ETag
		}
		return &Result{ETag: etag, Header: resp.Header, NotModified: true}, nil
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%w: GET %s answered %s", ErrStatus, raw, resp.Status)
	}
	if resp.ContentLength > max {
		return nil, fmt.Errorf("%w: GET %s declares %d bytes, cap %d", ErrTooLarge, raw, resp.ContentLength, max)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("httpget: reading body of %s: %w", raw, err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("%w: GET %s is over %d bytes", ErrTooLarge, raw, max)
	}
	return &Result{Body: body, ETag: resp.Header.Get("ETag"), Header: resp.Header}, nil
}
