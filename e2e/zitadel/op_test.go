package zitadel

// A real OpenID provider for the tests: the OP of github.com/zitadel/oidc/v3
// over an in-memory storage that supports the client-credentials grant,
// issues JWT access tokens, and lets a test rotate its signing keys.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/tokengate/tokengate/internal/jwk"
)

const (
	testClientID     = "scoring-batch"
	testClientSecret = "s3cret-for-tests"
)

var errNotSupported = errors.New("not supported by the test provider")

// opKey is an RSA signing key of the test provider.
type opKey struct {
	id   string
	priv *rsa.PrivateKey
}

func (k *opKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *opKey) Algorithm() jose.SignatureAlgorithm          { return jose.RS256 }
func (k *opKey) ID() string                                  { return k.id }
func (k *opKey) Use() string                                 { return "sig" }

// signing and public views of the same key: SigningKey wants the private
// key, KeySet the public one.
type opSigner struct{ *opKey }

func (s opSigner) Key() any { return s.priv }

type opPublic struct{ *opKey }

func (p opPublic) Key() any { return &p.priv.PublicKey }

// opStorage is the provider's in-memory state.
type opStorage struct {
	mu        sync.Mutex
	published []*opKey // in the JWK Set
	signing   *opKey
}

func newOPKey(t testing.TB, id string) *opKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &opKey{id: id, priv: priv}
}

// rotate publishes k and signs new tokens with it; the old keys stay
// published until unpublish.
func (s *opStorage) rotate(k *opKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, k)
	s.signing = k
}

func (s *opStorage) unpublish(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.published[:0]
	for _, k := range s.published {
		if k.id != id {
			kept = append(kept, k)
		}
	}
	s.published = kept
}

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return opSigner{s.signing}, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]op.Key, 0, len(s.published))
	for _, k := range s.published {
		keys = append(keys, opPublic{k})
	}
	return keys, nil
}

// Client credentials.

type opClient struct{}

func (opClient) GetID() string                       { return testClientID }
func (opClient) RedirectURIs() []string              { return nil }
func (opClient) PostLogoutRedirectURIs() []string    { return nil }
func (opClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (opClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (opClient) ResponseTypes() []oidc.ResponseType  { return nil }
func (opClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}
func (opClient) LoginURL(string) string              { return "" }
func (opClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (opClient) IDTokenLifetime() time.Duration      { return time.Hour }
func (opClient) DevMode() bool                       { return false }
func (opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (opClient) IsScopeAllowed(string) bool           { return true }
func (opClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (opClient) ClockSkew() time.Duration             { return 0 }

type opTokenRequest struct{ scopes []string }

func (r opTokenRequest) GetSubject() string    { return testClientID }
func (r opTokenRequest) GetAudience() []string { return []string{"api://scoring"} }
func (r opTokenRequest) GetScopes() []string   { return r.scopes }

func (s *opStorage) ClientCredentials(_ context.Context, id, secret string) (op.Client, error) {
	if id != testClientID || secret != testClientSecret {
		return nil, errors.New("wrong client credentials")
	}
	return opClient{}, nil
}

func (s *opStorage) ClientCredentialsTokenRequest(_ context.Context, _ string, scopes []string) (op.TokenRequest, error) {
	return opTokenRequest{scopes: scopes}, nil
}

func (s *opStorage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != testClientID {
		return nil, errors.New("unknown client")
	}
	return opClient{}, nil
}

func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.ClientCredentials(ctx, id, secret)
	return err
}

func (s *opStorage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return fmt.Sprintf("at-%d", time.Now().UnixNano()), time.Now().Add(5 * time.Minute), nil
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *opStorage) Health(context.Context) error { return nil }

// The rest of op.Storage is for interactive flows the tests do not use.

func (s *opStorage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (op.AuthRequest, error) {
	return nil, errNotSupported
}
func (s *opStorage) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotSupported
}
func (s *opStorage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, errNotSupported
}
func (s *opStorage) SaveAuthCode(context.Context, string, string) error { return errNotSupported }
func (s *opStorage) DeleteAuthRequest(context.Context, string) error    { return errNotSupported }
func (s *opStorage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNotSupported
}
func (s *opStorage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNotSupported
}
func (s *opStorage) TerminateSession(context.Context, string, string) error { return errNotSupported }
func (s *opStorage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrUnsupportedGrantType()
}
func (s *opStorage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}
func (s *opStorage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return errNotSupported
}
func (s *opStorage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errNotSupported
}
func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errNotSupported
}
func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errNotSupported
}

// testOP is a running provider.
type testOP struct {
	Issuer  string
	Storage *opStorage
	srv     *httptest.Server
}

// startOP starts the provider on 127.0.0.1 with one signing key, kid "k1".
func startOP(t *testing.T) *testOP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	storage := &opStorage{}
	storage.rotate(newOPKey(t, "k1"))
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		t.Fatal(err)
	}
	provider, err := op.NewProvider(&op.Config{CryptoKey: cryptoKey}, storage, op.StaticIssuer(issuer),
		op.WithAllowInsecure(), op.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = provider
	srv.Start()
	t.Cleanup(srv.Close)
	return &testOP{Issuer: issuer, Storage: storage, srv: srv}
}

// token obtains an access token with the client-credentials grant.
func (o *testOP) token(t testing.TB) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"score"}}
	req, err := http.NewRequest(http.MethodPost, o.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(testClientID, testClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token endpoint answered %s: %s", resp.Status, body)
	}
	return tok.AccessToken
}

// verify checks token against the key set that config gives provider, the
// way the plugin would select the key: by kid, among usable keys only.
func verify(config []byte, provider, token string) error {
	var doc struct {
		Providers map[string]struct {
			Issuer string          `json:"issuer"`
			JWKS   json.RawMessage `json:"jwks"`
		} `json:"providers"`
	}
	if err := json.Unmarshal(config, &doc); err != nil {
		return err
	}
	p := doc.Providers[provider]
	if p.JWKS == nil {
		return errors.New("the provider has no key set (the plugin answers 503)")
	}
	set, _, err := jwk.Parse(p.JWKS)
	if err != nil {
		return err
	}
	_, err = jwt.Parse(token, func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		for _, k := range set.Keys {
			if k.Kid == kid {
				return k.Public, nil
			}
		}
		return nil, fmt.Errorf("no key with kid %q", kid)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(p.Issuer), jwt.WithAudience("api://scoring"), jwt.WithExpirationRequired())
	return err
}

// kidOf returns the kid in a JWT's header.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := tok.Header["kid"].(string)
	return kid
}
