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

// Get fetches raw with client, enforcing the HTTPS rule and the size cap.
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
	resp, err := client.Do(req)
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
