package e2e

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

// Hostile input, end to end: the same requests go through the real module in
// Envoy (over a raw TCP connection, so that bytes net/http refuses to send
// still reach the proxy) and through the Go host (testhost). Each must end in
// a 4xx from the plugin or from the proxy's own HTTP codec, within a bounded
// time, never reach the upstream, and leave the proxy serving.

// hostileLimit bounds the time of one hostile request. A signature check in
// the module costs about a millisecond; the limit is generous for a shared
// CI machine yet far below what an unbounded loop over a large key set or a
// runaway parser would take.
const hostileLimit = 5 * time.Second

const hostileAudience = "api://scoring"

// hostileWorld is what every hostile test needs: the trusted issuer, a
// forger that signs with keys of the same names the proxy never saw, and the
// plugin configuration.
type hostileWorld struct {
	iss, forger *issuer.Issuer
	config      string
}

var hostileOnce = sync.OnceValues(func() (*hostileWorld, error) {
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256, issuer.ES256)
	if err != nil {
		return nil, err
	}
	forger, err := issuer.New(iss.URL, issuer.RS256, issuer.ES256)
	if err != nil {
		return nil, err
	}
	w := &hostileWorld{iss: iss, forger: forger}
	w.config = `{
  "realm": "models",
  "providers": {
    "corp": {"issuer": "` + iss.URL + `", "audiences": ["` + hostileAudience + `"], "jwks": ` + hostileJWKS(iss) + `,
      "claim_to_headers": [{"claim": "sub", "header": "x-user"}, {"claim": "role", "header": "x-role"},
        {"claim": "groups", "header": "x-groups"}]}
  },
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`
	return w, nil
})

func hostile(t *testing.T) *hostileWorld {
	t.Helper()
	w, err := hostileOnce()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// hostileJWKS is iss's key set buried in a hostile one: 10,000 kid-less RSA
// keys (each a valid-looking 2048-bit modulus that verifies nothing), a
// 16384-bit RSA key, an RSA key with a 4-byte exponent, EC keys off their
// curve or on an unsupported one, an OKP key for key agreement, and a
// symmetric key. The issuer's own keys come last.
func hostileJWKS(iss *issuer.Issuer) string {
	b64 := base64.RawURLEncoding.EncodeToString
	base := iss.Key("RS256-1").Private.Public().(*rsa.PublicKey).N
	var b strings.Builder
	b.WriteString(`{"keys":[`)
	for i := 1; i <= 10_000; i++ {
		n := new(big.Int).Add(base, big.NewInt(int64(2*i)))
		b.WriteString(`{"kty":"RSA","use":"sig","n":"` + b64(n.Bytes()) + `","e":"AQAB"},`)
	}
	huge := make([]byte, 16384/8)
	_, _ = rand.Read(huge)
	huge[0] |= 0x80
	huge[len(huge)-1] |= 1
	p256 := iss.Key("ES256-1").JWK()
	offCurve := []byte(p256["y"])
	if offCurve[3] == 'A' {
		offCurve[3] = 'B'
	} else {
		offCurve[3] = 'A'
	}
	b.WriteString(`{"kty":"RSA","kid":"RS256-1","alg":"RS256","n":"` + b64(huge) + `","e":"AQAB"},`)
	b.WriteString(`{"kty":"RSA","kid":"RS256-1","n":"` + b64(base.Bytes()) + `","e":"_____w"},`)
	b.WriteString(`{"kty":"EC","kid":"ES256-1","crv":"P-256","x":"` + p256["x"] + `","y":"` + string(offCurve) + `"},`)
	b.WriteString(`{"kty":"EC","kid":"ES256-1","crv":"secp256k1","x":"` + p256["x"] + `","y":"` + p256["y"] + `"},`)
	b.WriteString(`{"kty":"EC","kid":"ES256-1","crv":"P-256","x":"` + p256["x"][:20] + `","y":"` + p256["y"] + `"},`)
	b.WriteString(`{"kty":"OKP","kid":"ES256-1","crv":"X25519","x":"` + b64(make([]byte, 32)) + `"},`)
	b.WriteString(`{"kty":"oct","kid":"RS256-1","k":"c2VjcmV0"},`)
	keys, _ := json.Marshal([]map[string]string{iss.Key("RS256-1").JWK(), iss.Key("ES256-1").JWK()})
	b.Write(keys[1 : len(keys)-1])
	b.WriteString(`]}`)
	return b.String()
}

// hostileRequest is one request: a path and raw header lines.
type hostileRequest struct {
	name    string
	path    string
	headers [][2]string
	// allow marks the positive controls: genuine tokens that must pass, so
	// that the refusals cannot come from a configuration that refuses all.
	allow bool
	// goStatus is the plugin's answer in the Go host, where no HTTP codec
	// stands in front of it. Envoy may answer any 4xx itself instead (431
	// for oversized headers, 400 for bytes its codec refuses).
	goStatus int
}

func mintOrFail(t *testing.T, iss *issuer.Issuer, claims issuer.Claims, opts ...issuer.MintOption) string {
	t.Helper()
	if claims["aud"] == nil {
		claims["aud"] = hostileAudience
	}
	tok, err := iss.Mint(claims, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func signRaw(t *testing.T, iss *issuer.Issuer, kid, header, payload string) string {
	t.Helper()
	tok, err := iss.Key(kid).SignRaw([]byte(header), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// nested is depth levels of JSON arrays around a number.
func nested(depth int) string {
	return strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)
}

// garbageToken is a three-segment token of about size bytes.
func garbageToken(size int) string {
	seg := strings.Repeat("A", size/3)
	return "eyJhbGciOiJSUzI1NiJ9." + seg + "." + seg
}

func hostileRequests(t *testing.T) []hostileRequest {
	t.Helper()
	w := hostile(t)
	exp := fmt.Sprint(time.Now().Add(time.Hour).Unix())
	claims := `{"iss":"` + w.iss.URL + `","aud":"` + hostileAudience + `","exp":` + exp
	auth := func(tok string) [][2]string { return [][2]string{{"authorization", "Bearer " + tok}} }
	eightKiB := strings.Repeat("x", 8<<10)
	many := func(n int, value string) [][2]string {
		hs := make([][2]string, n)
		for i := range hs {
			hs[i] = [2]string{"authorization", value}
		}
		return hs
	}
	var members strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&members, `,"m%d":%d`, i, i)
	}
	valid := mintOrFail(t, w.iss, issuer.Claims{"sub": "alice"})
	return []hostileRequest{
		{name: "a genuine token passes", path: "/v1/score", headers: auth(valid), allow: true},
		{name: "a genuine 8 KiB token passes", path: "/v1/score", headers: auth(mintOrFail(t, w.iss, issuer.Claims{"sub": "alice", "pad": eightKiB})), allow: true},
		{name: "a genuine ES256 token is found by kid among the hostile keys", path: "/v1/score", headers: auth(mintOrFail(t, w.iss, issuer.Claims{"sub": "alice"}, issuer.WithKey("ES256-1"))), allow: true},
		{name: "a forged 8 KiB token is refused", path: "/v1/score", headers: auth(mintOrFail(t, w.forger, issuer.Claims{"sub": "alice", "pad": eightKiB})), goStatus: 401},
		{name: "a 64 KiB token is refused", path: "/v1/score", headers: auth(garbageToken(64 << 10)), goStatus: 401},
		{name: "a 512 KiB token is refused", path: "/v1/score", headers: auth(garbageToken(512 << 10)), goStatus: 401},
		{name: "a forged kid-less token is refused without trying 10,000 keys", path: "/v1/score", headers: auth(mintOrFail(t, w.forger, issuer.Claims{"sub": "alice"}, issuer.WithHeader("kid", nil))), goStatus: 401},
		{name: "a token for the 16384-bit key's kid is refused", path: "/v1/score", headers: auth(signRaw(t, w.forger, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, claims+`}`)), goStatus: 401},
		{name: "a token for the off-curve key's kid is refused", path: "/v1/score", headers: auth(signRaw(t, w.forger, "ES256-1", `{"alg":"ES256","kid":"ES256-1"}`, claims+`}`)), goStatus: 401},
		{name: "a NUL byte in the Authorization header is refused", path: "/v1/score", headers: auth("abc\x00def"), goStatus: 400},
		{name: "a bare CR in the Authorization header is refused", path: "/v1/score", headers: auth("abc\rx-admin: true"), goStatus: 400},
		{name: "a folded Authorization header is refused", path: "/v1/score", headers: auth(valid[:20] + "\r\n " + valid[20:]), goStatus: 400},
		{name: "invalid UTF-8 in the Authorization header is refused", path: "/v1/score", headers: auth("\xff\xfe\xfd." + valid[4:]), goStatus: 400},
		{name: "90 Authorization headers are refused", path: "/v1/score", headers: many(90, "Bearer "+valid), goStatus: 400},
		{name: "500 Authorization headers are refused", path: "/v1/score", headers: many(500, "Bearer "+valid), goStatus: 400},
		{name: "a forged token with a deeply nested JOSE header is refused", path: "/v1/score", headers: auth(signRaw(t, w.forger, "RS256-1", `{"alg":"RS256","kid":"RS256-1","x":`+nested(5000)+`}`, claims+`}`)), goStatus: 401},
		{name: "a forged token with a deeply nested payload is refused", path: "/v1/score", headers: auth(signRaw(t, w.forger, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, claims+`,"x":`+nested(5000)+`}`)), goStatus: 401},
		{name: "an unsigned token nested beyond the size limit is refused", path: "/v1/score", headers: auth(base64.RawURLEncoding.EncodeToString([]byte(`{"alg":`+nested(20000)+`}`)) + ".e30.AAAA"), goStatus: 401},
		{name: "a forged token with 1,500 header members is refused", path: "/v1/score", headers: auth(signRaw(t, w.forger, "RS256-1", `{"alg":"RS256","kid":"RS256-1"`+members.String()+`}`, claims+`}`)), goStatus: 401},
		{name: "a forged token with 1,500 claims is refused", path: "/v1/score", headers: auth(signRaw(t, w.forger, "RS256-1", `{"alg":"RS256","kid":"RS256-1"}`, claims+members.String()+`}`)), goStatus: 401},
	}
}

// injectionRequests are genuine tokens whose claims try to smuggle headers
// through claim_to_headers, sent with forged copies of those headers. They
// pass; what matters is what reaches the upstream.
func injectionRequests(t *testing.T) []hostileRequest {
	t.Helper()
	w := hostile(t)
	forged := [][2]string{{"x-user", "root"}, {"x-role", "admin"}, {"x-groups", "admin"}}
	with := func(claims issuer.Claims) [][2]string {
		return append([][2]string{{"authorization", "Bearer " + mintOrFail(t, w.iss, claims)}}, forged...)
	}
	return []hostileRequest{
		{name: "a CR LF in a claim does not split the header", path: "/v1/score", allow: true,
			headers: with(issuer.Claims{"sub": "alice\r\nx-admin: true", "role": "reader\nx-admin: true"})},
		{name: "a NUL in a claim is not forwarded", path: "/v1/score", allow: true,
			headers: with(issuer.Claims{"sub": "alice\x00x-admin", "groups": []any{"a", "b\r\nx-admin: true"}})},
		{name: "forged copies of claim headers never reach the upstream", path: "/v1/score", allow: true,
			headers: with(issuer.Claims{"sub": "alice"})},
	}
}

// checkForwarded inspects the headers that reached the upstream for an
// injection request.
func checkForwarded(t *testing.T, name string, got http.Header) {
	t.Helper()
	if v := got.Values("X-Admin"); len(v) > 0 {
		t.Fatalf("x-admin reached the upstream: %q", v)
	}
	for _, h := range []string{"X-User", "X-Role", "X-Groups"} {
		for _, v := range got.Values(h) {
			if v == "root" || v == "admin" || strings.ContainsAny(v, "\r\n\x00") {
				t.Fatalf("%s = %q reached the upstream", h, v)
			}
		}
		if len(got.Values(h)) > 1 {
			t.Fatalf("%s appears %d times upstream", h, len(got.Values(h)))
		}
	}
	if strings.HasPrefix(name, "forged copies") && got.Get("X-User") != "alice" {
		t.Fatalf("x-user = %q, want the verified subject", got.Get("X-User"))
	}
	if got.Get("Authorization") != "" {
		t.Fatal("the token reached the upstream")
	}
}

// recordingUpstream answers 200 and remembers the headers of the last
// request.
type recordingUpstream struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	last http.Header
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	u := &recordingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		u.mu.Lock()
		u.last = r.Header.Clone()
		u.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *recordingUpstream) lastHeaders() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last
}

// rawGet sends one HTTP/1.1 request with the header lines exactly as given
// and returns the status, or 0 when the proxy closed the connection without
// an answer.
func rawGet(t *testing.T, addr, path string, headers [][2]string) (int, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(hostileLimit + 5*time.Second))
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: tokengate.test\r\n")
	for _, h := range headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	// Write while reading: the proxy may answer (431) before it has read
	// an oversized request and then stop reading.
	go func() { _, _ = io.WriteString(conn, b.String()) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestHostileInputThroughEnvoy(t *testing.T) {
	w := hostile(t)
	up := newRecordingUpstream(t)
	start := time.Now()
	p, pid := startTaggedEnvoy(t, w.config, up.Server)
	t.Logf("Envoy configured the plugin with a 10,000-key set in %v", time.Since(start).Round(time.Millisecond))
	addr := strings.TrimPrefix(p.base, "http://")
	before := wasmMemories(pid)
	if len(before) == 0 {
		t.Fatalf("found no Wasm memory in Envoy's address space (pid %d)", pid)
	}
	t.Cleanup(func() {
		// Hostile input must not make a VM allocate without bound: the
		// largest request is 512 KiB, and Envoy refuses it before the VM.
		after := wasmMemories(pid)
		t.Logf("Wasm memory per VM: %v MiB before the hostile requests, %v MiB after", mib(before), mib(after))
		if len(after) != len(before) {
			t.Errorf("the number of Wasm VMs changed from %d to %d: a VM failed and was replaced", len(before), len(after))
			return
		}
		for i := range after {
			if after[i]-before[i] > 32<<20 {
				t.Errorf("VM %d's Wasm memory grew by %d MiB", i, (after[i]-before[i])>>20)
			}
		}
	})
	for _, r := range hostileRequests(t) {
		t.Run(r.name, func(t *testing.T) {
			before := up.hits.Load()
			begin := time.Now()
			status, err := rawGet(t, addr, r.path, r.headers)
			took := time.Since(begin)
			if err != nil {
				t.Fatalf("no answer after %v: %v", took, err)
			}
			if took > hostileLimit {
				t.Fatalf("answered %d after %v, want within %v", status, took, hostileLimit)
			}
			reached := up.hits.Load() > before
			if r.allow {
				if status != 200 || !reached {
					t.Fatalf("status %d (upstream reached: %v), want 200", status, reached)
				}
				return
			}
			if status < 400 || status > 499 {
				t.Fatalf("status %d, want a 4xx", status)
			}
			if reached {
				t.Fatalf("a refused request (status %d) reached the upstream", status)
			}
			t.Logf("status %d in %v", status, took.Round(time.Millisecond))
		})
	}
	for _, r := range injectionRequests(t) {
		t.Run(r.name, func(t *testing.T) {
			status, err := rawGet(t, addr, r.path, r.headers)
			if err != nil || status != 200 {
				t.Fatalf("status %d, err %v; want 200", status, err)
			}
			checkForwarded(t, r.name, up.lastHeaders())
		})
	}
	if !p.env.Running() {
		t.Fatal("envoy exited")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if r := p.get(t, client, "/healthz", ""); r.status != 200 {
		t.Fatalf("after the hostile requests /healthz = %d", r.status)
	}
	if bad := p.env.WasmErrors(); len(bad) > 0 {
		t.Fatalf("envoy logged %d Wasm errors, first: %s", len(bad), bad[0])
	}
}

func TestHostileInputThroughGoHost(t *testing.T) {
	w := hostile(t)
	// Load the module once with a small configuration, so that the time
	// below is the configuration's alone.
	testhost.New(t, `{"providers":{"corp":{"issuer":"`+w.iss.URL+`","jwks":`+string(w.iss.JWKS())+`}}}`)
	start := time.Now()
	h := testhost.New(t, w.config)
	t.Logf("the Go host configured the plugin with a 10,000-key set in %v", time.Since(start).Round(time.Millisecond))
	for _, r := range hostileRequests(t) {
		t.Run(r.name, func(t *testing.T) {
			begin := time.Now()
			res := h.Do(t, testhost.Request{Path: r.path, Headers: r.headers})
			took := time.Since(begin)
			if took > hostileLimit {
				t.Fatalf("answered after %v, want within %v", took, hostileLimit)
			}
			if r.allow {
				if !res.Continued {
					t.Fatalf("refused with %d %s, want it let through", res.Status, res.Body)
				}
				return
			}
			if res.Continued {
				t.Fatal("a hostile request was let through")
			}
			if res.Status != r.goStatus {
				t.Fatalf("status %d (%s), want %d", res.Status, res.Body, r.goStatus)
			}
			for _, tok := range r.headers {
				if len(tok[1]) > 40 && strings.Contains(string(res.Body), tok[1][len(tok[1])-40:]) {
					t.Fatal("the response echoes the token")
				}
			}
		})
	}
	for _, r := range injectionRequests(t) {
		t.Run(r.name, func(t *testing.T) {
			res := h.Do(t, testhost.Request{Path: r.path, Headers: r.headers})
			if !res.Continued {
				t.Fatalf("refused with %d %s, want it let through", res.Status, res.Body)
			}
			got := http.Header{}
			for _, kv := range res.Headers {
				got.Add(kv[0], kv[1])
			}
			checkForwarded(t, r.name, got)
		})
	}
}

// TestHostileKeySetsAreRefusedOrIgnored: a key set that is not a JWK Set is
// a refused configuration; a set whose every key is unusable configures, and
// its tokens get 401, not a pass and not a 503.
func TestHostileKeySetsAreRefusedOrIgnored(t *testing.T) {
	w := hostile(t)
	provider := func(jwks string) string {
		return `{"providers":{"corp":{"issuer":"` + w.iss.URL + `","jwks":` + jwks + `}}}`
	}
	for _, tt := range []struct{ name, jwks, says string }{
		{"a key set that is a number is refused", `42`, "jwks"},
		{"a key set whose keys are not an array is refused", `{"keys":{"kty":"RSA"}}`, "jwks"},
		// Depth is checked on the whole document before anything parses it.
		{"a key set nested 10,000 levels deep is refused", nested(10000), "levels deep"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := testhost.Refused(t, provider(tt.jwks))
			if !strings.Contains(strings.Join(logs, "\n"), tt.says) {
				t.Fatalf("the refusal does not say %q: %q", tt.says, logs)
			}
		})
	}
	t.Run("a key set of only unusable keys configures and refuses its tokens", func(t *testing.T) {
		unusable := `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"},` +
			`{"kty":"OKP","crv":"Ed448","x":"AAAA"},{"kty":"oct","k":"AAAA"},{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`
		h := testhost.New(t, provider(unusable))
		tok := mintOrFail(t, w.iss, issuer.Claims{"sub": "alice"})
		res := h.Do(t, testhost.Request{Path: "/", Headers: [][2]string{{"authorization", "Bearer " + tok}}})
		if res.Continued || res.Status != 401 {
			t.Fatalf("continued=%v status=%d, want 401", res.Continued, res.Status)
		}
	})
}
