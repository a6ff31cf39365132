package gate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

// stateConfig is a gate with a token provider (scopes in scope and scp), a
// passphrase for /batch, a public route and envoy_filter_state as given.
func stateConfig(f *fixture, state string) string {
	return `{
  "providers": {"corp": {"issuer": "` + corpURL + `", "audiences": ["` + aud + `"], "jwks": ` + string(f.corp.JWKS()) + `,
    "scope_claims": ["scope", "scp"]},
    "batch": {"type": "passphrase", "passphrase": "correct horse battery staple"}},
  ` + state + `
  "rules": [
    {"match": {"prefix": "/public"}},
    {"match": {"prefix": "/batch"}, "requires": {"providers": ["batch"]}},
    {"match": {"prefix": "/admin"}, "requires": {"providers": ["corp"], "scopes": ["admin"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`
}

func TestFilterStateIsWrittenForAllowedRequestsOnly(t *testing.T) {
	f := fx(t)
	mint := func(c issuer.Claims) string {
		base := issuer.Claims{"aud": aud, "sub": "alice", "scope": "read write"}
		for k, v := range c {
			base[k] = v
		}
		tok, err := f.corp.Mint(base)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	const enabled = `"envoy_filter_state": {"claims": ["tenant", {"claim": "realm_access.roles", "name": "roles"}, "level"]},`
	tests := []struct {
		name, state, path, token string
		want                     [][2]string // nil: nothing written
	}{
		{"an allowed token writes provider, sub, scopes and the configured claims", enabled, "/x",
			mint(issuer.Claims{"tenant": "ml", "level": 3, "realm_access": map[string]any{"roles": []string{"reader", "writer"}}}),
			[][2]string{{"tokengate.provider", "corp"}, {"tokengate.sub", "alice"}, {"tokengate.scope", "read write"},
				{"tokengate.tenant", "ml"}, {"tokengate.roles", "reader,writer"}, {"tokengate.level", "3"}}},
		{"scopes from several claims and arrays are joined with single spaces", enabled, "/x",
			mint(issuer.Claims{"scope": "  read  ", "scp": []string{"a", "b"}}),
			[][2]string{{"tokengate.provider", "corp"}, {"tokengate.sub", "alice"}, {"tokengate.scope", "read a b"}}},
		{"a prefix renames every property", `"envoy_filter_state": {"prefix": "authn.tg", "claims": ["tenant"]},`, "/x",
			mint(issuer.Claims{"tenant": "ml"}),
			[][2]string{{"authn.tg.provider", "corp"}, {"authn.tg.sub", "alice"}, {"authn.tg.scope", "read write"}, {"authn.tg.tenant", "ml"}}},
		{"a sub with a control character is left out, not cleaned", enabled, "/x",
			mint(issuer.Claims{"sub": "alice\nx-forged: 1", "scope": "read"}),
			[][2]string{{"tokengate.provider", "corp"}, {"tokengate.scope", "read"}}},
		{"a sub with a C1 control or a line separator is left out", enabled, "/x",
			mint(issuer.Claims{"sub": "ali\u0085ce", "tenant": "m\u2028l"}),
			[][2]string{{"tokengate.provider", "corp"}, {"tokengate.scope", "read write"}}},
		{"a value longer than 1024 bytes is left out, not cut", enabled, "/x",
			mint(issuer.Claims{"tenant": strings.Repeat("t", 1025), "sub": strings.Repeat("s", 1024)}),
			[][2]string{{"tokengate.provider", "corp"}, {"tokengate.sub", strings.Repeat("s", 1024)}, {"tokengate.scope", "read write"}}},
		{"a sub that is not a string and missing claims are left out", enabled, "/x",
			mint(issuer.Claims{"sub": 42, "scope": ""}),
			[][2]string{{"tokengate.provider", "corp"}}},
		{"a passphrase writes its provider only", enabled, "/batch/run", "correct horse battery staple",
			[][2]string{{"tokengate.provider", "batch"}}},
		{"a refused request writes nothing", enabled, "/admin", mint(nil), nil},
		{"a public route writes nothing, even with a token", enabled, "/public/x", mint(nil), nil},
		{"without envoy_filter_state nothing is written", "", "/x", mint(issuer.Claims{"tenant": "ml"}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _, err := Compile([]byte(stateConfig(f, tt.state)))
			if err != nil {
				t.Fatal(err)
			}
			req := &Request{Headers: [][2]string{{":method", "GET"}, {":path", tt.path}, {":authority", "api.test"},
				{"authorization", "Bearer " + tt.token}}}
			for _, round := range []string{"first", "cached"} {
				d := g.Decide(req, time.Now())
				if !slices.Equal(d.FilterState, tt.want) {
					t.Errorf("%s decision: filter state\n got %q\nwant %q", round, d.FilterState, tt.want)
				}
			}
		})
	}
}

func TestFilterStateConfigurationErrorsNameTheField(t *testing.T) {
	f := fx(t)
	tests := []struct{ name, state, want string }{
		{"an unknown field", `"envoy_filter_state": {"claim": ["x"]},`, `envoy_filter_state.claim: unknown field (known: prefix, claims)`},
		{"not an object", `"envoy_filter_state": true,`, `envoy_filter_state: must be an object`},
		{"a prefix with a space", `"envoy_filter_state": {"prefix": "token gate"},`, `envoy_filter_state.prefix: must be letters`},
		{"a prefix ending in a dot", `"envoy_filter_state": {"prefix": "tokengate."},`, `envoy_filter_state.prefix: must be letters`},
		{"a dotted path given as a bare name", `"envoy_filter_state": {"claims": ["realm_access.roles"]},`,
			`envoy_filter_state.claims[0]: a claim given by name must be letters, digits, '_' or '-'; for a path such as "realm_access.roles" write {"claim": "realm_access.roles", "name": "roles"}`},
		{"a path without a name", `"envoy_filter_state": {"claims": [{"claim": "realm_access.roles"}]},`, `envoy_filter_state.claims[0].name: is required`},
		{"a name without a claim", `"envoy_filter_state": {"claims": [{"name": "roles"}]},`, `envoy_filter_state.claims[0].claim: is required`},
		{"a reserved name", `"envoy_filter_state": {"claims": ["sub"]},`, `envoy_filter_state.claims[0]: the name "sub" is written anyway (tokengate.sub)`},
		{"a name used twice", `"envoy_filter_state": {"claims": ["tenant", {"claim": "org.tenant", "name": "tenant"}]},`,
			`envoy_filter_state.claims[1]: the name "tenant" is used twice`},
		{"claims that are not an array", `"envoy_filter_state": {"claims": "tenant"},`, `envoy_filter_state.claims: must be an array`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Compile([]byte(stateConfig(f, tt.state)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
