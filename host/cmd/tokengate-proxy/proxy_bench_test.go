package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

// BenchmarkProxyMixedTokens runs the real plugin in tokengate-proxy on a
// loopback listener, in front of a loopback upstream, with 32 concurrent
// clients sending valid, expired, foreign-issuer and missing tokens in
// turn. Every response must carry the expected status; a transport error
// fails the benchmark. Run it as the load check with
//
//	go test -run XXX -bench ProxyMixedTokens -benchtime 10000x ./host/cmd/tokengate-proxy
func BenchmarkProxyMixedTokens(b *testing.B) {
	benchmarkProxy(b, func(valid, expired, foreign string) []tokenKind {
		return []tokenKind{{"Bearer " + valid, 200}, {"Bearer " + expired, 401}, {"Bearer " + foreign, 401}, {"", 401}, {"Bearer " + valid, 200}}
	})
}

// BenchmarkProxyCachedToken is benchrun's warm scenario in one process: the
// same valid token on every request (a verified-token cache hit after the
// first), through the proxy and to the upstream directly. Profile the
// proxy's per-request cost with
//
//	go test -run XXX -bench 'ProxyCachedToken/through' -benchtime 50000x -cpuprofile cpu.out ./host/cmd/tokengate-proxy
func BenchmarkProxyCachedToken(b *testing.B) {
	benchmarkProxy(b, func(valid, _, _ string) []tokenKind { return []tokenKind{{"Bearer " + valid, 200}} })
}

type tokenKind struct {
	auth string
	code int
}

func benchmarkProxy(b *testing.B, mix func(valid, expired, foreign string) []tokenKind) {
	ctx := context.Background()
	iss, err := issuer.New("https://idp.example.com", issuer.ES256, issuer.RS256)
	if err != nil {
		b.Fatal(err)
	}
	other, _ := issuer.New("https://evil.example.com", issuer.ES256)
	claims := issuer.Claims{"sub": "alice", "aud": "api://scoring"}
	valid, _ := iss.Mint(claims, issuer.WithTTL(time.Hour))
	expired, _ := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api://scoring", "exp": time.Now().Add(-time.Hour).Unix()})
	foreign, _ := other.Mint(claims, issuer.WithTTL(time.Hour))
	cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example.com","audiences":["api://scoring"],"jwks":%s}}}`, iss.JWKS())
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "scored") }))
	defer up.Close()
	u, _ := url.Parse(up.URL)
	logger := slog.New(slog.DiscardHandler)
	p, err := host.Load(ctx, testhost.Wasm(b), host.WithLogger(logger),
		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	x := newProxy(p, reverseProxy(u, 5*time.Second, logger), logger)
	if err := x.Configure(ctx, []byte(cfg)); err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(x)
	defer front.Close()
	kinds := mix(valid, expired, foreign)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, target := range []struct{ name, url string }{{"direct upstream", up.URL}, {"through the proxy", front.URL}} {
		b.Run(target.name, func(b *testing.B) {
			var n, transportErrs, wrong atomic.Int64
			b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					k := kinds[n.Add(1)%int64(len(kinds))]
					req, _ := http.NewRequest("POST", target.url+"/v1/score", nil)
					if k.auth != "" {
						req.Header.Set("Authorization", k.auth)
					}
					res, err := client.Do(req)
					if err != nil {
						transportErrs.Add(1)
						continue
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if target.url == front.URL && res.StatusCode != k.code {
						wrong.Add(1)
					}
				}
			})
			if transportErrs.Load() != 0 || wrong.Load() != 0 {
				b.Fatalf("%d transport errors and %d wrong statuses in %d requests", transportErrs.Load(), wrong.Load(), n.Load())
			}
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkHandlerCachedToken measures the proxy's own work per request
// without sockets: forwarding headers, the middleware and the plugin
// (cached token, claim copied to x-user), in front of an upstream handler
// that answers at once. A browser-like set of headers makes the header
// conversions cost what they cost in production.
func BenchmarkHandlerCachedToken(b *testing.B) {
	ctx := context.Background()
	iss, err := issuer.New("https://idp.example.com", issuer.RS256)
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api://scoring"}, issuer.WithTTL(time.Hour))
	cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example.com","audiences":["api://scoring"],"jwks":%s,
	  "claim_to_headers":[{"claim":"sub","header":"x-user"}]}}}`, iss.JWKS())
	logger := slog.New(slog.DiscardHandler)
	p, err := host.Load(ctx, testhost.Wasm(b), host.WithLogger(logger), host.WithPoolSize(1),
		host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	up := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-User") != "alice" {
			w.WriteHeader(http.StatusTeapot)
		}
	})
	x := newProxy(p, up, logger)
	if err := x.Configure(ctx, []byte(cfg)); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "http://api.example.com/v1/score?id=7", nil)
	req.RemoteAddr = "192.0.2.10:51234"
	req.RequestURI = "/v1/score?id=7" // as the server reads it from the request line
	for k, v := range map[string]string{"Authorization": "Bearer " + tok, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)",
		"Accept": "application/json", "Accept-Encoding": "gzip, deflate, br", "Accept-Language": "en-GB,en;q=0.9",
		"X-Request-Id": "3f2b8c1e-6a1d-4c1e-9a7b-2d0e5f4c3b2a", "Cookie": "session=abc; theme=dark"} {
		req.Header.Set(k, v)
	}
	w := &discardWriter{h: http.Header{}}
	for b.Loop() {
		clear(w.h)
		w.code = 0
		x.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK {
			b.Fatalf("status %d, want 200", w.code)
		}
	}
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
