package gate

import (
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/issuer"
)

// TestIDTokensAreRecognisedByEachMark checks that each mark of an ID token
// is enough on its own: "typ": "ID" in the payload (any case) without a
// nonce or at_hash, or a nonce or at_hash without an access-token "typ"
// header.
func TestIDTokensAreRecognisedByEachMark(t *testing.T) {
	f := fx(t)
	g := compile(t, `{"providers":{"corp":{"issuer":"`+corpURL+`","audiences":["`+aud+`"],"jwks":`+string(f.corp.JWKS())+`,"refuse_id_tokens":true}},
  "rules":[{"match":{"prefix":"/"},"requires":{}}]}`)
	at := issuer.WithHeader("typ", "at+jwt")
	tests := []struct {
		name   string
		claims issuer.Claims
		opts   []issuer.MintOption
		idTok  bool
	}{
		{"typ ID alone", issuer.Claims{"typ": "ID"}, nil, true},
		{"typ id in lower case alone", issuer.Claims{"typ": "id"}, nil, true},
		{"typ ID even with an at+jwt header", issuer.Claims{"typ": "ID"}, []issuer.MintOption{at}, true},
		{"typ Bearer is an access token", issuer.Claims{"typ": "Bearer"}, nil, false},
		{"a typ that is not a string is not the mark", issuer.Claims{"typ": []string{"ID"}}, nil, false},
		{"a nonce alone", issuer.Claims{"nonce": "n"}, nil, true},
		{"an at_hash alone", issuer.Claims{"at_hash": "h"}, nil, true},
		{"a nonce with an at+jwt header", issuer.Claims{"nonce": "n"}, []issuer.MintOption{at}, false},
		{"a nonce with a JWT header", issuer.Claims{"nonce": "n"}, []issuer.MintOption{issuer.WithHeader("typ", "JWT")}, true},
		{"no mark at all", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := g.Decide(get("/x", bearer(mint(t, f.corp, tt.claims, tt.opts...))...), now())
			if tt.idTok && d.Reason != ErrIDToken.Error() {
				t.Fatalf("allow=%v reason %q, want %q", d.Allow, d.Reason, ErrIDToken)
			}
			if !tt.idTok && !d.Allow {
				t.Fatalf("refused: %s (%s)", d.Reason, d.Detail)
			}
		})
	}
}

// TestAlsoIssuersAreReadAsConfigured checks that a listed also_issuers is
// kept (and replaces a preset's), that an empty list clears it, and that
// the provider's own issuer cannot be repeated there.
func TestAlsoIssuersAreReadAsConfigured(t *testing.T) {
	const v2 = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
	tests := []struct {
		name, provider string
		accepts        []string
		refuses        []string
		err            string
	}{
		{"one other issuer", `{"issuer":"https://a.example.com","also_issuers":["https://b.example.com"]}`,
			[]string{"https://a.example.com", "https://b.example.com"}, []string{"https://c.example.com", ""}, ""},
		{"two other issuers", `{"issuer":"https://a.example.com","also_issuers":["https://b.example.com","https://c.example.com"]}`,
			[]string{"https://a.example.com", "https://b.example.com", "https://c.example.com"}, []string{"https://d.example.com"}, ""},
		{"a list replaces the preset's pairing", `{"preset":"entra","issuer":"` + v2 + `","also_issuers":["https://b.example.com"]}`,
			[]string{v2, "https://b.example.com"}, []string{"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"}, ""},
		{"an empty list clears the preset's pairing", `{"preset":"entra","issuer":"` + v2 + `","also_issuers":[]}`,
			[]string{v2}, []string{"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"}, ""},
		{"the issuer repeated", `{"issuer":"https://a.example.com","also_issuers":["https://b.example.com","https://a.example.com"]}`,
			nil, nil, `providers.p.also_issuers[1]: repeats "issuer"`},
		{"not a list", `{"issuer":"https://a.example.com","also_issuers":"https://b.example.com"}`,
			nil, nil, `providers.p.also_issuers: must be an array of strings`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _, err := Compile([]byte(`{"providers":{"p":` + tt.provider + `}}`))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := g.providers[0]
			for _, iss := range tt.accepts {
				if !p.acceptsIssuer(iss) {
					t.Errorf("%q refused (also_issuers %q)", iss, p.alsoIssuers)
				}
			}
			for _, iss := range tt.refuses {
				if p.acceptsIssuer(iss) {
					t.Errorf("%q accepted (also_issuers %q)", iss, p.alsoIssuers)
				}
			}
		})
	}
}
