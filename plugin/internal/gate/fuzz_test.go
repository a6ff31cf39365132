package gate

import (
	"testing"
	"time"
)

// FuzzDecide throws arbitrary credentials and paths at a gate. A decision
// must always be made, never panic, and never allow a credential that is not
// the one valid token the corpus starts from.
func FuzzDecide(f *testing.F) {
	g := compile(f, standardConfig(f))
	valid := mint(f, fx(f).corp, nil)
	f.Add("/v1/score", "Bearer "+valid)
	f.Add("/v1/score", "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Add("/healthz/../v1", "Bearer a.b.c")
	f.Add("/x?access_token=1", "bearer  x.y.z.w.v")
	f.Fuzz(func(t *testing.T, path, authorization string) {
		d := g.Decide(get(path, "authorization", authorization), time.Now())
		if !d.Allow {
			if d.Status < 400 || d.Status > 599 || len(d.Body) == 0 {
				t.Fatalf("refusal without a proper response: %+v", d)
			}
			return
		}
		if d.Provider != "" && authorization[len("Bearer "):] != valid && !endsWith(authorization, valid) {
			t.Fatalf("allowed a credential that is not the valid token: %q", authorization)
		}
	})
}

func endsWith(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// FuzzParseJWS checks that token parsing never panics and that whatever it
// accepts has the shape the verifier relies on.
func FuzzParseJWS(f *testing.F) {
	f.Add(mint(f, fx(f).corp, nil))
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.AAAA")
	f.Add("a.b.c.d.e")
	f.Fuzz(func(t *testing.T, token string) {
		tok, err := parseJWS(token)
		if err != nil {
			return
		}
		if tok.alg == "" || len(tok.signature) == 0 || !tok.header.IsObject() || !tok.claims.IsObject() {
			t.Fatalf("accepted a token without alg, signature or objects: %q", token)
		}
	})
}

// FuzzCompile checks that no configuration makes Compile panic, and that a
// configuration it accepts gives a gate that can decide.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(standardConfig(f)))
	f.Add([]byte(`{"providers":{"p":{"type":"passphrase","hashed_passphrase":"pbkdf2-sha256$1000$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}}`))
	f.Add([]byte(`{"providers":{"a":{"issuer":"x"}},"rules":[{"match":{"prefix":"/","headers":[{"name":"h","present":true}]},"requires":{"scopes":["s"]}}]}`))
	f.Fuzz(func(t *testing.T, config []byte) {
		g, _, err := Compile(config)
		if err != nil {
			return
		}
		g.Decide(get("/", "authorization", "Bearer a.b.c"), time.Now())
	})
}
