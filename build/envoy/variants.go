package envoy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"text/template"
)

// The comparison bootstraps of `make bench`: the listener, route and upstream
// of the tokengate bootstrap with no authentication at all, or with Envoy's
// native jwt_authn filter in place of the plugin.
var (
	//go:embed noauth.yaml.tmpl
	noAuthTemplate string
	//go:embed jwt_authn.yaml.tmpl
	jwtAuthnTemplate string

	noAuthTmpl   = template.Must(template.New("noauth").Parse(noAuthTemplate))
	jwtAuthnTmpl = template.Must(template.New("jwt_authn").Funcs(template.FuncMap{"json": jsonValue}).Parse(jwtAuthnTemplate))
)

// RenderNoAuth returns a bootstrap with the same listener and upstream as
// Render but no authentication filter. Only the three ports of b are used.
func RenderNoAuth(b Bootstrap) ([]byte, error) {
	if b.ListenPort == 0 || b.AdminPort == 0 || b.UpstreamPort == 0 {
		return nil, errors.New("envoy: RenderNoAuth needs the three ports")
	}
	var out bytes.Buffer
	if err := noAuthTmpl.Execute(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// JWTAuthn are the values of the jwt_authn bootstrap.
type JWTAuthn struct {
	AdminPort, ListenPort, UpstreamPort int
	Issuer                              string   // required "iss"
	Audiences                           []string // accepted "aud" values; empty accepts any
	JWKS                                string   // the JWK Set, inline
	Claim, ClaimHeader                  string   // optional: copy this claim to this request header
	CacheSize                           int      // jwt_cache_config.jwt_cache_size; 0 leaves the cache off
}

// RenderJWTAuthn returns a bootstrap with the same listener and upstream as
// Render that verifies tokens with Envoy's envoy.filters.http.jwt_authn.
func RenderJWTAuthn(j JWTAuthn) ([]byte, error) {
	if j.ListenPort == 0 || j.AdminPort == 0 || j.UpstreamPort == 0 || j.Issuer == "" || j.JWKS == "" {
		return nil, errors.New("envoy: RenderJWTAuthn needs the three ports, Issuer and JWKS")
	}
	if (j.Claim == "") != (j.ClaimHeader == "") {
		return nil, errors.New("envoy: RenderJWTAuthn needs both Claim and ClaimHeader, or neither")
	}
	if j.Audiences == nil {
		j.Audiences = []string{}
	}
	var out bytes.Buffer
	if err := jwtAuthnTmpl.Execute(&out, j); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// jsonValue writes v as JSON, which is also a valid YAML flow value.
func jsonValue(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
