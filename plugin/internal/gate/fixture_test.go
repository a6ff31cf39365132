package gate

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

const (
	corpURL  = "https://idp.example.com/realms/ml"
	otherURL = "https://other.example.com"
	aud      = "api://scoring"
)

type fixture struct {
	corp, other *issuer.Issuer
}

var loadFixture = sync.OnceValue(func() *fixture {
	corp, err := issuer.New(corpURL, issuer.RS256, issuer.ES256, issuer.RS384, issuer.RS512, issuer.PS256,
		issuer.PS384, issuer.PS512, issuer.ES384, issuer.ES512, issuer.EdDSA)
	if err != nil {
		panic(err)
	}
	other, err := issuer.New(otherURL, issuer.RS256)
	if err != nil {
		panic(err)
	}
	return &fixture{corp: corp, other: other}
})

func fx(t testing.TB) *fixture {
	t.Helper()
	return loadFixture()
}

// mint signs claims with corp's key kid (default RS256-1), audience aud.
func mint(t testing.TB, iss *issuer.Issuer, claims issuer.Claims, opts ...issuer.MintOption) string {
	t.Helper()
	c := issuer.Claims{"aud": aud, "sub": "alice", "scope": "score read"}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	tok, err := iss.Mint(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// raw signs a hand-written header and payload with corp's key kid.
func raw(t testing.TB, kid, header, payload string) string {
	t.Helper()
	k := fx(t).corp.Key(kid)
	tok, err := k.SignRaw([]byte(header), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// standardConfig is the README's example with both issuers.
func standardConfig(t testing.TB) string {
	f := fx(t)
	return `{
  "realm": "models",
  "providers": {
    "corp": {"issuer": "` + corpURL + `", "audiences": ["` + aud + `"], "jwks": ` + string(f.corp.JWKS()) + `},
    "other": {"issuer": "` + otherURL + `", "jwks": ` + string(f.other.JWKS()) + `}
  },
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/v1/score"}, "requires": {"providers": ["corp"], "scopes": ["score"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp", "other"]}}
  ]
}`
}

func compile(t testing.TB, config string, opts ...Option) *Gate {
	t.Helper()
	g, warnings, err := Compile([]byte(config), opts...)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	for _, w := range warnings {
		t.Logf("warning: %s", w)
	}
	return g
}

// get is a request with the given path and headers (name, value, ...).
func get(path string, kv ...string) *Request {
	r := &Request{Headers: [][2]string{{":method", "GET"}, {":path", path}, {":authority", "api"}, {":scheme", "https"}}}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Headers = append(r.Headers, [2]string{kv[i], kv[i+1]})
	}
	return r
}

func bearer(tok string) []string { return []string{"authorization", "Bearer " + tok} }

func header(d Decision, name string) string {
	for _, h := range d.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// checkBody asserts that a local response body is the small JSON object of
// docs/configuration.md, "Responses".
func checkBody(t *testing.T, d Decision, code string) {
	t.Helper()
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(d.Body, &b); err != nil {
		t.Fatalf("body %q is not JSON: %v", d.Body, err)
	}
	if b.Error != code || b.Description == "" {
		t.Fatalf("body = %s, want error %q with a description", d.Body, code)
	}
	if strings.Count(string(d.Body), ".") >= 2 && strings.Contains(string(d.Body), "eyJ") {
		t.Fatalf("body echoes a token: %s", d.Body)
	}
}

var now = func() time.Time { return time.Now() }
