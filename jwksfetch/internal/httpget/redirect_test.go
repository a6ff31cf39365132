package httpget

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"testing"
)

// redirectServers are a TLS and a plain test server with the same handlers,
// and a client that reaches both under any host name: its dialer sends every
// connection to 127.0.0.1 (the port from the URL), so a name like
// idp.example.com is "non-loopback" to the HTTPS rule while no packet leaves
// the machine. The TLS test certificate covers *.example.com.
type redirectServers struct {
	tls, plain *httptest.Server
	client     *http.Client
}

func newRedirectServers(t *testing.T) *redirectServers {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[]}`))
	})
	// /to?u=URL redirects to URL.
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	// /hops/N redirects N more times, then to /keys.
	mux.HandleFunc("/hops/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			http.Redirect(w, r, "/keys", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hops/%d", n-1), http.StatusFound)
	})
	s := &redirectServers{tls: httptest.NewTLSServer(mux), plain: httptest.NewServer(mux)}
	t.Cleanup(s.tls.Close)
	t.Cleanup(s.plain.Close)
	roots := x509.NewCertPool()
	roots.AddCert(s.tls.Certificate())
	tr := s.tls.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = roots
	tr.DialContext = loopbackDialer
	tr.DialTLSContext = nil
	tr.Proxy = nil
	s.client = &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)
	return s
}

// loopbackDialer connects to 127.0.0.1 whatever host addr names.
func loopbackDialer(ctx context.Context, network, addr string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
}

// url returns the URL of path on the TLS ("https") or plain ("http") server
// under host.
func (s *redirectServers) url(scheme, host, path string) string {
	srv := s.plain
	if scheme == "https" {
		srv = s.tls
	}
	u, _ := url.Parse(srv.URL)
	return scheme + "://" + net.JoinHostPort(host, u.Port()) + path
}

// via returns the URL that redirects from the first URL to the second.
func via(from, to string) string { return from + "/to?u=" + url.QueryEscape(to) }

func TestGetChecksEveryRedirect(t *testing.T) {
	t.Parallel()
	s := newRedirectServers(t)
	httpsIdP := s.url("https", "idp.example.com", "")
	httpsKeys := s.url("https", "keys.example.com", "/keys")
	httpKeys := s.url("http", "keys.example.com", "/keys")
	httpLoop := s.url("http", "127.0.0.1", "")
	tests := []struct {
		name     string
		url      string
		insecure bool
		want     error // nil: the key set is fetched
	}{
		{name: "an https redirect to https on another host is followed", url: via(httpsIdP, httpsKeys)},
		{name: "a relative https redirect is followed", url: s.url("https", "idp.example.com", "/hops/0")},
		{name: "a loopback http redirect to loopback http is followed", url: via(httpLoop, httpLoop+"/keys")},
		{name: "a loopback http redirect to https is followed", url: via(httpLoop, httpsKeys)},
		{name: "a redirect to plain http on a non-loopback host is refused", url: via(httpLoop, httpKeys), want: ErrInsecureURL},
		{name: "a redirect to plain http on a non-loopback host is followed with allow_insecure_http", url: via(httpLoop, httpKeys), insecure: true},
		{name: "https redirected to non-loopback http is refused", url: via(httpsIdP, httpKeys), want: ErrInsecureURL},
		{name: "https redirected to loopback http is a refused downgrade", url: via(httpsIdP, httpLoop+"/keys"), want: ErrDowngrade},
		{name: "https redirected to http is a refused downgrade even with allow_insecure_http", url: via(httpsIdP, httpKeys), insecure: true, want: ErrDowngrade},
		{name: "a downgrade further down the chain is refused", url: via(httpsIdP, via(httpLoop, httpLoop+"/keys")), want: ErrDowngrade},
		{name: "five redirects are followed", url: s.url("https", "idp.example.com", fmt.Sprintf("/hops/%d", MaxRedirects-1))},
		{name: "six redirects are refused", url: s.url("https", "idp.example.com", fmt.Sprintf("/hops/%d", MaxRedirects)), want: ErrTooManyRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Get(context.Background(), s.client, tt.url, Options{InsecureAllowHTTP: tt.insecure})
			if tt.want == nil {
				if err != nil || string(res.Body) != `{"keys":[]}` {
					t.Fatalf("Get(%s) = %+v, %v; want the key set", tt.url, res, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Get(%s) err = %v, want %v", tt.url, err, tt.want)
			}
		})
	}
}

func TestGetKeepsTheClientsRedirectPolicy(t *testing.T) {
	t.Parallel()
	s := newRedirectServers(t)
	errCaller := errors.New("the caller's policy refuses this redirect")
	httpsIdP := s.url("https", "idp.example.com", "")
	tests := []struct {
		name   string
		policy func(*http.Request, []*http.Request) error
		url    string
		calls  int   // how often policy must have been asked
		want   error // nil: the key set is fetched
	}{
		{name: "a hop the caller's policy refuses is refused", url: via(httpsIdP, s.url("https", "keys.example.com", "/keys")),
			policy: func(*http.Request, []*http.Request) error { return errCaller }, calls: 1, want: errCaller},
		{name: "a hop both policies accept is followed", url: via(httpsIdP, s.url("https", "keys.example.com", "/keys")),
			policy: func(*http.Request, []*http.Request) error { return nil }, calls: 1},
		{name: "a permissive caller's policy does not let a downgrade through", url: via(httpsIdP, s.url("http", "127.0.0.1", "/keys")),
			policy: func(*http.Request, []*http.Request) error { return nil }, want: ErrDowngrade},
		{name: "a caller's policy without a limit does not lift the cap", url: s.url("https", "idp.example.com", "/hops/20"),
			policy: func(*http.Request, []*http.Request) error { return nil }, calls: MaxRedirects, want: ErrTooManyRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			policy := func(req *http.Request, via []*http.Request) error {
				calls++
				return tt.policy(req, via)
			}
			client := &http.Client{Transport: s.client.Transport, CheckRedirect: policy}
			res, err := Get(context.Background(), client, tt.url, Options{})
			switch {
			case tt.want == nil && (err != nil || string(res.Body) != `{"keys":[]}`):
				t.Fatalf("Get(%s) = %+v, %v; want the key set", tt.url, res, err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("Get(%s) err = %v, want %v", tt.url, err, tt.want)
			}
			if calls != tt.calls {
				t.Errorf("the caller's policy was asked %d times, want %d", calls, tt.calls)
			}
			if reflect.ValueOf(client.CheckRedirect).Pointer() != reflect.ValueOf(policy).Pointer() {
				t.Error("Get replaced the caller's CheckRedirect")
			}
		})
	}
}
