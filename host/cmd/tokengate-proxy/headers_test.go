package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// seen is what the upstream received, as JSON in its answer.
type seen struct {
	XUser, XFF, XFH, XFP, RealIP, Forwarded, Underscored []string
}

// realPluginChain runs the real plugin in the real proxy chain (forwarding,
// middleware, reverse proxy) in front of an upstream that reports the
// headers it got. The plugin accepts tokens of iss and writes their sub to
// x-user; a request to /internal with X-Forwarded-Host: admin.internal
// passes without a token, every other request needs one.
func realPluginChain(t *testing.T, trusted ...string) (*httptest.Server, *issuer.Issuer, *sync.Map) {
	t.Helper()
	ctx := context.Background()
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.ES256)
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s seen
		for k, v := range r.Header {
			if strings.Contains(k, "_") && isForwardingHeader(k) {
				s.Underscored = append(s.Underscored, k+": "+strings.Join(v, ","))
			}
		}
		s.XUser, s.XFF, s.XFH, s.XFP = r.Header.Values("X-User"), r.Header.Values("X-Forwarded-For"), r.Header.Values("X-Forwarded-Host"), r.Header.Values("X-Forwarded-Proto")
		s.RealIP, s.Forwarded = r.Header.Values("X-Real-Ip"), r.Header.Values("Forwarded")
		json.NewEncoder(w).Encode(s)
	}))
	t.Cleanup(up.Close)
	log := slog.New(slog.DiscardHandler)
	p, err := host.Load(ctx, wasmbuild.Bytes(t), host.WithPoolSize(1), host.WithLogger(log),
		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	u, _ := url.Parse(up.URL)
	x := newProxy(p, reverseProxy(u, 5*time.Second, log), log)
	if x.fwd, err = parseTrustedProxies(trusted); err != nil {
		t.Fatal(err)
	}
	cfg := `{"realm": "r",
	  "providers": {"corp": {"issuer": "` + iss.URL + `", "audiences": ["api"], "jwks": ` + string(iss.JWKS()) + `,
	    "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}},
	  "rules": [
	    {"match": {"prefix": "/internal", "headers": [{"name": "x-forwarded-host", "exact": "admin.internal"}]}},
	    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}]}`
	if err := x.Configure(ctx, []byte(cfg)); err != nil {
		t.Fatal(err)
	}
	// incoming records each request's Connection header as the proxy got
	// it, to prove the client really sent what a case says.
	incoming := &sync.Map{}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		incoming.Store(r.Header.Get("X-Case"), r.Header.Values("Connection"))
		x.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front, iss, incoming
}

// send makes one request to front and returns its status and what the
// upstream saw (zero when the plugin answered).
func send(t *testing.T, front *httptest.Server, path string, h http.Header) (int, seen) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", front.URL+path, nil)
	req.Header = h
	req.Host = "api.example"
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var s seen
	if res.StatusCode == 200 {
		if err := json.Unmarshal(body, &s); err != nil {
			t.Fatalf("upstream answer %q: %v", body, err)
		}
	}
	return res.StatusCode, s
}

// TestHopByHopHeadersCannotRemoveVerifiedHeaders: a client that names
// x-user in Connection must not make the reverse proxy delete the x-user the
// plugin set from the verified token, nor get its forged x-user through.
func TestHopByHopHeadersCannotRemoveVerifiedHeaders(t *testing.T) {
	front, iss, incoming := realPluginChain(t)
	tok, err := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api"})
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + tok
	tests := []struct {
		name    string
		headers http.Header
		code    int
		xUser   []string
	}{
		{name: "Connection naming x-user with a forged x-user", code: 200, xUser: []string{"alice"},
			headers: http.Header{"Authorization": {bearer}, "Connection": {"X-User"}, "X-User": {"mallory"}}},
		{name: "Connection naming x-user among other headers", code: 200, xUser: []string{"alice"},
			headers: http.Header{"Authorization": {bearer}, "Connection": {"keep-alive, x-user"}, "Keep-Alive": {"timeout=5"}, "X-User": {"mallory"}}},
		{name: "Connection naming x-user without a forged x-user", code: 200, xUser: []string{"alice"},
			headers: http.Header{"Authorization": {bearer}, "Connection": {"x-user"}}},
		{name: "a forged x-user without Connection", code: 200, xUser: []string{"alice"},
			headers: http.Header{"Authorization": {bearer}, "X-User": {"mallory"}}},
		{name: "Connection naming Authorization removes the token before the plugin", code: 401,
			headers: http.Header{"Authorization": {bearer}, "Connection": {"Authorization"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.headers.Set("X-Case", tt.name)
			code, got := send(t, front, "/v1/score", tt.headers)
			if sent, _ := incoming.Load(tt.name); !reflect.DeepEqual(sent, tt.headers.Values("Connection")) {
				t.Fatalf("the test's premise fails: the proxy got Connection %q, the case sends %q", sent, tt.headers.Values("Connection"))
			}
			if code != tt.code || !reflect.DeepEqual(got.XUser, tt.xUser) {
				t.Fatalf("status %d, upstream x-user %q; want %d, %q", code, got.XUser, tt.code, tt.xUser)
			}
		})
	}
}

// TestForwardingHeadersAreSetBeforeThePlugin: the proxy decides the
// X-Forwarded-* headers before the plugin runs, so a rule that matches on
// X-Forwarded-Host judges the value the upstream gets, and a client cannot
// claim another host, address or scheme unless it is a trusted proxy.
func TestForwardingHeadersAreSetBeforeThePlugin(t *testing.T) {
	forged := http.Header{"X-Forwarded-For": {"198.51.100.1"}, "X-Forwarded-Host": {"admin.internal"}, "X-Forwarded-Proto": {"https"},
		"X-Real-Ip": {"198.51.100.1"}, "Forwarded": {"for=198.51.100.1;host=admin.internal"}, "X_forwarded_host": {"admin.internal"}}
	tests := []struct {
		name    string
		trusted []string
		token   bool
		path    string
		headers http.Header
		code    int
		want    seen
	}{
		{name: "an untrusted client cannot open a rule with X-Forwarded-Host", path: "/internal", headers: forged, code: 401},
		{name: "an untrusted client's forwarding headers are replaced", token: true, path: "/v1/score", headers: forged, code: 200,
			want: seen{XUser: []string{"alice"}, XFF: []string{"127.0.0.1"}, XFH: []string{"api.example"}, XFP: []string{"http"}}},
		{name: "a client outside the trusted CIDRs is not trusted", trusted: []string{"10.0.0.0/8", "192.0.2.7"}, path: "/internal", headers: forged, code: 401},
		{name: "without forwarding headers the proxy sets its own", token: true, path: "/v1/score", code: 200,
			want: seen{XUser: []string{"alice"}, XFF: []string{"127.0.0.1"}, XFH: []string{"api.example"}, XFP: []string{"http"}}},
		{name: "a trusted proxy's host is believed and its address chain extended", trusted: []string{"127.0.0.0/8"}, path: "/internal", headers: forged, code: 200,
			want: seen{XFF: []string{"198.51.100.1, 127.0.0.1"}, XFH: []string{"admin.internal"}, XFP: []string{"https"},
				RealIP: []string{"198.51.100.1"}, Forwarded: []string{"for=198.51.100.1;host=admin.internal"}}},
		{name: "a trusted proxy that sends nothing gets the proxy's own values", trusted: []string{"::1", "127.0.0.1"}, token: true, path: "/v1/score", code: 200,
			want: seen{XUser: []string{"alice"}, XFF: []string{"127.0.0.1"}, XFH: []string{"api.example"}, XFP: []string{"http"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			front, iss, _ := realPluginChain(t, tt.trusted...)
			h := tt.headers.Clone()
			if h == nil {
				h = http.Header{}
			}
			if tt.token {
				tok, err := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api"})
				if err != nil {
					t.Fatal(err)
				}
				h.Set("Authorization", "Bearer "+tok)
			}
			code, got := send(t, front, tt.path, h)
			if code != tt.code || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("status %d, upstream saw %+v; want %d, %+v", code, got, tt.code, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		peer    string
		trusted bool
		wantErr bool
	}{
		{name: "no list trusts nobody", peer: "127.0.0.1:5000"},
		{name: "a CIDR covers its addresses", in: []string{"10.0.0.0/8"}, peer: "10.1.2.3:5000", trusted: true},
		{name: "a CIDR does not cover others", in: []string{"10.0.0.0/8"}, peer: "11.1.2.3:5000"},
		{name: "a single address is a /32", in: []string{" 192.0.2.7 "}, peer: "192.0.2.7:1", trusted: true},
		{name: "an IPv4-mapped peer matches its IPv4 CIDR", in: []string{"192.0.2.0/24"}, peer: "[::ffff:192.0.2.9]:1", trusted: true},
		{name: "an IPv6 CIDR", in: []string{"2001:db8::/32"}, peer: "[2001:db8::1]:1", trusted: true},
		{name: "garbage is an error", in: []string{"10.0.0.0/8", "proxy.internal"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseTrustedProxies(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			r.Header.Set("X-Forwarded-Host", "claimed.example")
			if got := f.apply(r).Header.Get("X-Forwarded-Host") == "claimed.example"; got != tt.trusted {
				t.Errorf("peer %s trusted = %v, want %v", tt.peer, got, tt.trusted)
			}
		})
	}
}

func TestIsForwardingHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Forwarded-For": true, "x_forwarded_host": true, "Forwarded": true, "X-Real-IP": true, "True-Client-IP": true,
		"X-Client-IP": true, "CF-Connecting-IP": true, "x_cluster_client_ip": true, "Fastly-Client-IP": true,
		"X-Original-Forwarded-For": true, "X-User": false, "Authorization": false, "X-Forwarder": false, "Client-IP-Hint": false,
		"X_FORWARDED_PROTO": true, "X-Forwarded-": true, "x-forwarded-anything-else": true, "X-Forwarded": false,
		"Forwarded-For": false, "Forwardedx": false, "X-Real-I": false, "": false, "X-Real-IP-Extra": false,
	} {
		if got := isForwardingHeader(name); got != want {
			t.Errorf("isForwardingHeader(%q) = %v, want %v", name, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { isForwardingHeader("X_Forwarded_For"); isForwardingHeader("Authorization") }); n != 0 {
		t.Errorf("isForwardingHeader allocated %v times per run; it runs on every header of every request", n)
	}
}
