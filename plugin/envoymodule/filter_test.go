//go:build cgo && linux

package main

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/plugin/envoymodule/internal/dynmod"
)

// recorder is a stream that records what the filter asks of Envoy, one line
// per call, in order. Like Envoy, it hands out headers that point into its
// own memory, and marks a call that hands that memory back to it.
type recorder struct {
	headers [][2]string
	readErr error
	failSet string // a header whose change Envoy refuses
	panics  bool   // reading the headers panics
	calls   []string
	mem     []byte // "Envoy's" copy of the headers
}

func (r *recorder) RequestHeaders(dst [][2]string) ([][2]string, error) {
	if r.panics {
		panic("reading headers")
	}
	r.mem = r.mem[:0]
	for _, h := range r.headers {
		r.mem = append(append(r.mem, h[0]...), h[1]...)
	}
	at := 0
	str := func(n int) string {
		at += n
		if n == 0 {
			return ""
		}
		return unsafe.String(&r.mem[at-n], n)
	}
	dst = dst[:0]
	for _, h := range r.headers {
		dst = append(dst, [2]string{str(len(h[0])), str(len(h[1]))})
	}
	return dst, r.readErr
}
func (r *recorder) Borrowed(s string) bool {
	if len(s) == 0 || len(r.mem) == 0 {
		return false
	}
	p, base := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(&r.mem[0]))
	return p >= base && p < base+uintptr(len(r.mem))
}

// borrowed marks a call that passes Envoy its own memory.
func (r *recorder) borrowed(s ...string) string {
	for _, v := range s {
		if r.Borrowed(v) {
			return " (passes Envoy's own memory)"
		}
	}
	return ""
}
func (r *recorder) RemoveHeader(name string) bool {
	r.calls = append(r.calls, "remove "+name+r.borrowed(name))
	return name != r.failSet
}
func (r *recorder) SetHeader(name, value string) bool {
	r.calls = append(r.calls, "set "+name+": "+value+r.borrowed(name, value))
	return name != r.failSet
}
func (r *recorder) ClearRouteCache() { r.calls = append(r.calls, "clear route cache") }
func (r *recorder) SendResponse(status int, headers [][2]string, body []byte) {
	var hs []string
	for _, h := range headers {
		hs = append(hs, h[0]+": "+h[1])
	}
	r.calls = append(r.calls, "respond "+strconv.Itoa(status)+" ["+strings.Join(hs, "; ")+"] "+strings.TrimSpace(string(body)))
}
func (r *recorder) Log(dynmod.Level, string)     {}
func (r *recorder) LogEnabled(dynmod.Level) bool { return true }

// aliceToken is a test issuer and a token it signed for alice, audience
// api://scoring.
func aliceToken(t *testing.T) (*issuer.Issuer, string) {
	t.Helper()
	iss, err := issuer.New("https://idp.test/realms/ml", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint(issuer.Claims{"sub": "alice", "aud": "api://scoring"})
	if err != nil {
		t.Fatal(err)
	}
	return iss, tok
}

func TestFilterAppliesTheDecisionAsTheWasmFilterDoes(t *testing.T) {
	iss, tok := aliceToken(t)
	cfg := `{"realm": "models", "ambiguous_paths": "rewrite",
  "providers": {"corp": {"issuer": "` + iss.URL + `", "audiences": ["api://scoring"], "jwks": ` + string(iss.JWKS()) + `,
    "claim_to_headers": [{"claim": "sub", "header": "x-user"}]},
    "elsewhere": {"issuer": "` + iss.URL + `", "audiences": ["api://scoring"], "jwks": ` + string(iss.JWKS()) + `,
      "from_params": ["access_token"], "from_headers": [{"name": "x-api-token"}]}},
  "rules": [{"match": {"prefix": "/healthz"}}, {"match": {"prefix": "/q/"}, "requires": {"providers": ["elsewhere"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}]}`
	c, _, err := newConfig([]byte(cfg), 2)
	if err != nil {
		t.Fatal(err)
	}
	req := func(path, auth string, more ...[2]string) [][2]string {
		h := [][2]string{{":method", "GET"}, {":path", path}, {":authority", "api"}}
		if auth != "" {
			h = append(h, [2]string{"authorization", auth})
		}
		return append(h, more...)
	}
	tests := []struct {
		name    string
		headers [][2]string
		readErr error
		failSet string
		panics  bool
		status  dynmod.HeadersStatus
		calls   string
	}{
		{name: "a valid token goes upstream without the token and with the verified subject",
			headers: req("/v1/score", "Bearer "+tok, [2]string{"x-user", "mallory"}), status: dynmod.Continue,
			calls: "remove authorization\nset x-user: alice\nclear route cache"},
		{name: "a public route only loses forged claim headers",
			headers: req("/healthz", "", [2]string{"x-user", "mallory"}), status: dynmod.Continue,
			calls: "remove x-user\nclear route cache"},
		{name: "a rewritten path goes upstream as judged",
			headers: req("/v1//score", "Bearer "+tok), status: dynmod.Continue,
			calls: "remove authorization\nset x-user: alice\nset :path: /v1/score\nclear route cache"},
		{name: "a path taken from the request is copied before Envoy gets it back",
			headers: req("/q/score?access_token="+tok, ""), status: dynmod.Continue,
			calls: "remove x-user\nset :path: /q/score\nclear route cache"},
		{name: "a header name taken from the request is copied before Envoy gets it back",
			headers: req("/q/score", "", [2]string{"x_api_token", tok}), status: dynmod.Continue,
			calls: "remove x-user\nremove x_api_token\nclear route cache"},
		{name: "no token is refused with the gate's challenge",
			headers: req("/v1/score", ""), status: dynmod.StopIteration,
			calls: `respond 401 [content-type: application/json; cache-control: no-store; www-authenticate: Bearer realm="models"]`},
		{name: "unreadable headers fail closed",
			headers: req("/healthz", ""), readErr: errors.New("boom"), status: dynmod.StopIteration,
			calls: "respond 500 [content-type: text/plain] internal error"},
		{name: "a panic fails closed and does not reach Envoy",
			headers: req("/healthz", ""), panics: true, status: dynmod.StopIteration,
			calls: "respond 500 [content-type: text/plain] internal error"},
		{name: "a header change Envoy refuses fails closed",
			headers: req("/v1/score", "Bearer "+tok), failSet: "authorization", status: dynmod.StopIteration,
			calls: "remove authorization\nrespond 500 [content-type: text/plain] internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{headers: tt.headers, readErr: tt.readErr, failSet: tt.failSet, panics: tt.panics}
			if got := c.workers[1].decide(r); got != tt.status {
				t.Errorf("status = %d, want %d", got, tt.status)
			}
			got := strings.Join(r.calls, "\n")
			if i := strings.Index(got, "] "); strings.HasPrefix(got, "respond 401") && i > 0 {
				got = got[:i+1] // the JSON body is the gate's; the status and headers are what is checked here
			}
			if got != tt.calls {
				t.Errorf("calls:\n%s\nwant:\n%s", got, tt.calls)
			}
		})
	}
}

func TestNewConfigCompilesOneGatePerWorker(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		workers int
		gates   int
		err     string
	}{
		{name: "one gate per worker plus a spare", config: `{"providers": {"p": {"type": "passphrase", "passphrase": "correct horse battery staple"}}}`, workers: 3, gates: 3},
		{name: "no worker count still gives a gate", config: `{"providers": {"p": {"type": "passphrase", "passphrase": "correct horse battery staple"}}}`, workers: 0, gates: 1},
		{name: "a bad configuration is refused with its JSON path", config: `{"providers": {"corp": {"issuer": 7}}}`, workers: 2, err: "providers.corp.issuer"},
		{name: "an empty configuration is refused", config: ``, workers: 2, err: "configuration is empty"},
		{name: "envoy_filter_state is refused, not silently left out", workers: 2, err: "envoy_filter_state: the native module does not write filter state",
			config: `{"providers": {"p": {"type": "passphrase", "passphrase": "correct horse battery staple"}}, "envoy_filter_state": {}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := newConfig([]byte(tt.config), tt.workers)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one naming %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(c.workers) != tt.gates || c.spare.w == nil {
				t.Fatalf("%d worker gates and spare %v, want %d and a spare", len(c.workers), c.spare.w != nil, tt.gates)
			}
			seen := map[any]bool{c.spare.w.gate: true}
			for _, w := range c.workers {
				if seen[w.gate] {
					t.Fatal("two workers share a Gate: its cache is not safe for concurrent use")
				}
				seen[w.gate] = true
			}
		})
	}
}

// still is a stream that records nothing, so that it allocates nothing.
type still struct{ headers [][2]string }

func (s *still) RequestHeaders(dst [][2]string) ([][2]string, error) {
	return append(dst[:0], s.headers...), nil
}
func (*still) Borrowed(string) bool                  { return false }
func (*still) RemoveHeader(string) bool              { return true }
func (*still) SetHeader(string, string) bool         { return true }
func (*still) ClearRouteCache()                      {}
func (*still) SendResponse(int, [][2]string, []byte) {}
func (*still) Log(dynmod.Level, string)              {}
func (*still) LogEnabled(dynmod.Level) bool          { return false }

// A request whose token is in the verified-token cache allocates nothing
// in the native module either: no garbage, so no GC work on Envoy's threads.
func TestCachedRequestAllocatesNothing(t *testing.T) {
	iss, tok := aliceToken(t)
	c, _, err := newConfig([]byte(`{"providers": {"corp": {"issuer": "`+iss.URL+`", "audiences": ["api://scoring"],
  "jwks": `+string(iss.JWKS())+`, "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}}}`), 1)
	if err != nil {
		t.Fatal(err)
	}
	s := &still{headers: [][2]string{{":method", "GET"}, {":path", "/v1/score"}, {":authority", "api"}, {"authorization", "Bearer " + tok}}}
	w := c.workers[0]
	if got := w.decide(s); got != dynmod.Continue {
		t.Fatalf("first request: status %d, want Continue", got)
	}
	if n := testing.AllocsPerRun(200, func() { w.decide(s) }); n != 0 {
		t.Errorf("a cached request allocates %v times, want 0", n)
	}
}
