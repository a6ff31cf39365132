package keycloak

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/keycloaktest"
)

// world is what the tests set up in Keycloak once for both fronts.
type world struct {
	kc *keycloaktest.Keycloak
	sw *tcpSwitch // Keycloak reached through a relay the outage test switches off

	scorer   keycloaktest.Client // realm models: scope models.admin, realm role scorer, client role models-api/write
	reader   keycloaktest.Client // realm models: neither
	console  keycloaktest.Client // realm models: password grant, groups claim
	stranger keycloaktest.Client // realm other: same client id as scorer
	rotator  keycloaktest.Client // realm rotation
}

const (
	usersPassword = "correct horse battery staple"
	adminScope    = "models.admin"
)

func setUp(t *testing.T, kc *keycloaktest.Keycloak) *world {
	t.Helper()
	w := &world{kc: kc, sw: startSwitch(t, strings.TrimPrefix(kc.URL, "http://"))}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	for _, realm := range []string{"models", "other", "rotation"} {
		must(kc.CreateRealm(realm))
	}
	must(kc.CreateClientScope("models", adminScope))
	must(kc.CreateRealmRole("models", "scorer"))
	w.scorer, err = kc.CreateClient("models", "scorer", keycloaktest.ClientOptions{Audience: true, DefaultScopes: []string{adminScope}})
	must(err)
	must(kc.AssignRealmRole("models", w.scorer, "scorer"))
	api, err := kc.CreateClient("models", "models-api", keycloaktest.ClientOptions{})
	must(err)
	must(kc.CreateClientRole("models", api.ID, "write"))
	must(kc.AssignClientRole("models", w.scorer, api.ID, "write"))
	w.reader, err = kc.CreateClient("models", "reader", keycloaktest.ClientOptions{Audience: true})
	must(err)
	w.console, err = kc.CreateClient("models", "console", keycloaktest.ClientOptions{Audience: true, DirectAccessGrants: true})
	must(err)
	must(kc.AddGroupMembershipMapper("models", w.console, "groups"))
	analysts, err := kc.CreateGroup("models", "analysts")
	must(err)
	alice, err := kc.CreateUser("models", "alice", usersPassword)
	must(err)
	must(kc.AddUserToGroup("models", alice, analysts))
	_, err = kc.CreateUser("models", "bob", usersPassword)
	must(err)
	w.stranger, err = kc.CreateClient("other", "scorer", keycloaktest.ClientOptions{Audience: true})
	must(err)
	w.rotator, err = kc.CreateClient("rotation", "rotator", keycloaktest.ClientOptions{Audience: true})
	must(err)
	return w
}

// config is the plugin configuration of both fronts. Every provider names
// its issuer only: jwksfetch finds the key set by OIDC discovery.
func (w *world) config() string {
	models := w.kc.Issuer("models")
	return fmt.Sprintf(`{
  "realm": "models",
  "refresh": {"cluster": "jwksfetch"},
  "providers": {
    "corp": {"issuer": %[1]q, "preset": "keycloak", "audiences": ["scorer", "reader", "console"],
      "role_claims": ["realm_access.roles", "resource_access.models-api.roles"]},
    "corp-analysts": {"issuer": %[1]q, "audiences": ["console"],
      "claims": [{"claim": "groups", "contains": ["analysts"]}]},
    "rotating": {"issuer": %[2]q, "audiences": ["rotator"]},
    "outage": {"issuer": %[3]q, "audiences": ["scorer"],
      "fetch": {"refresh_seconds": 1, "refresh_min_seconds": 1, "max_stale_seconds": %[4]d}}
  },
  "rules": [
    {"match": {"prefix": "/admin"}, "requires": {"providers": ["corp"], "scopes": [%[5]q]}},
    {"match": {"prefix": "/score"}, "requires": {"providers": ["corp"], "roles": ["scorer"]}},
    {"match": {"prefix": "/reports"}, "requires": {"providers": ["corp-analysts"]}},
    {"match": {"prefix": "/write"}, "requires": {"providers": ["corp"], "roles": ["write"]}},
    {"match": {"prefix": "/rotation"}, "requires": {"providers": ["rotating"]}},
    {"match": {"prefix": "/outage"}, "requires": {"providers": ["outage"]}},
    {"match": {"prefix": "/"}, "requires": {"providers": ["corp"]}}
  ]
}`, models, w.kc.Issuer("rotation"), w.sw.url()+"/realms/models", int(maxStale/time.Second), adminScope)
}

// maxStale is the outage provider's max_stale: small, so the test sees the
// withdrawal.
const maxStale = 5 * time.Second

// Rotation thresholds. A request whose token names a kid the plugin's key
// set lacks is paused while the plugin asks the fetcher (refresh), and goes
// on with the key set the fetcher answers with: no valid request is refused
// during a rotation, on either front. latency is how long the first
// new-kid request waited, with a wide margin for a loaded 2-core machine;
// the test logs the measured numbers.
var rotationLimits = map[string]struct {
	latency time.Duration // first request with the new kid -> first accepted
	refused int           // valid new-kid requests refused meanwhile, one every rotationPace
}{
	"tokengate-proxy": {latency: 3 * time.Second, refused: 0},
	"envoy":           {latency: 5 * time.Second, refused: 0},
}

// rotationPace is the interval between requests with the new token.
const rotationPace = 10 * time.Millisecond

// TestKeycloak runs Keycloak's tokens, a Keycloak key rotation and a
// Keycloak outage through tokengate-proxy and through Envoy.
func TestKeycloak(t *testing.T) {
	begin := time.Now()
	kc := keycloaktest.Start(t)
	ready := time.Now()
	w := setUp(t, kc)
	t.Logf("Keycloak ready after %v, realms set up in %v more", ready.Sub(begin).Round(time.Millisecond), time.Since(ready).Round(time.Millisecond))
	upstream := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(rw, "upstream saw "+r.URL.Path)
	}))
	t.Cleanup(upstream.Close)
	upstreamPort := upstream.Listener.Addr().(*net.TCPAddr).Port

	fronts := []struct {
		name  string
		start func(*testing.T, string, int) *front
	}{
		{"tokengate-proxy", startProxy},
		{"envoy", startEnvoy},
	}
	for i, fr := range fronts {
		t.Run("through "+fr.name, func(t *testing.T) {
			f := fr.start(t, w.config(), upstreamPort)
			t.Run("Keycloak's tokens are judged by realm, scope, role and group", func(t *testing.T) { w.judgeTokens(t, f) })
			// Each front rotates once more, with a higher priority.
			t.Run("a rotated Keycloak key is accepted after an unknown-kid refresh", func(t *testing.T) { w.rotate(t, f, 200+i) })
			t.Run("the last good keys outlive Keycloak until max_stale, then 503", func(t *testing.T) { w.outage(t, f) })
		})
	}
}

func (w *world) judgeTokens(t *testing.T, f *front) {
	models, other := w.kc.Issuer("models"), w.kc.Issuer("other")
	token := func(get func() (string, error)) string {
		t.Helper()
		tok, err := get()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	var (
		scorer   = token(func() (string, error) { return w.kc.Token(models, w.scorer.ClientID, w.scorer.Secret) })
		reader   = token(func() (string, error) { return w.kc.Token(models, w.reader.ClientID, w.reader.Secret) })
		stranger = token(func() (string, error) { return w.kc.Token(other, w.stranger.ClientID, w.stranger.Secret) })
		alice    = token(func() (string, error) {
			return w.kc.PasswordToken(models, w.console.ClientID, w.console.Secret, "alice", usersPassword)
		})
		bob = token(func() (string, error) {
			return w.kc.PasswordToken(models, w.console.ClientID, w.console.Secret, "bob", usersPassword)
		})
	)
	tests := []struct {
		name, path, token string
		status            int
		wwwAuthenticate   string // a part of the challenge, if any is expected
	}{
		{name: "a client-credentials token of the realm is accepted", path: "/v1/models", token: scorer, status: 200},
		{name: "a token with the required client scope is accepted", path: "/admin/reload", token: scorer, status: 200},
		{name: "a token without the required client scope gets 403", path: "/admin/reload", token: reader, status: 403,
			wwwAuthenticate: `error="insufficient_scope"`},
		{name: "a token whose service account has the realm role is accepted", path: "/score", token: scorer, status: 200},
		{name: "a token without the realm role gets 403", path: "/score", token: reader, status: 403,
			wwwAuthenticate: `error="insufficient_scope"`},
		{name: "a token whose service account has the client role is accepted", path: "/write", token: scorer, status: 200},
		{name: "a token without the client role gets 403", path: "/write", token: reader, status: 403,
			wwwAuthenticate: `error="insufficient_scope"`},
		{name: "a token from another realm is refused", path: "/v1/models", token: stranger, status: 401,
			wwwAuthenticate: `error="invalid_token"`},
		{name: "a user's password-grant token is accepted", path: "/v1/models", token: alice, status: 200},
		{name: "a member of the required group is accepted", path: "/reports/q3", token: alice, status: 200},
		{name: "a user outside the required group is refused", path: "/reports/q3", token: bob, status: 401,
			wwwAuthenticate: `error="invalid_token"`},
		{name: "a request without a token gets a challenge", path: "/v1/models", status: 401,
			wwwAuthenticate: `Bearer realm="models"`},
		{name: "a tampered token is refused", path: "/v1/models", token: tamper(scorer), status: 401,
			wwwAuthenticate: `error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := f.get(tt.path, tt.token)
			if err != nil {
				t.Fatal(err)
			}
			if a.status != tt.status {
				t.Fatalf("%s %s: status %d, want %d (WWW-Authenticate %q, body %q)", f.name, tt.path, a.status, tt.status,
					a.header.Get("WWW-Authenticate"), a.body)
			}
			if tt.status == 200 && a.body != "upstream saw "+tt.path {
				t.Errorf("the upstream answered %q, want it to have seen %s", a.body, tt.path)
			}
			if got := a.header.Get("WWW-Authenticate"); !strings.Contains(got, tt.wwwAuthenticate) {
				t.Errorf("WWW-Authenticate %q, want it to contain %q", got, tt.wwwAuthenticate)
			}
		})
	}
}

// rotate rotates the rotation realm's signing key the Keycloak way (a new
// RSA key provider of a higher priority), then disables the old provider.
// Under steady load with a token signed by the old key, it measures the time
// from the first request with a token signed by the new key to its first
// acceptance, and counts the valid requests refused meanwhile.
func (w *world) rotate(t *testing.T, f *front, priority int) {
	issuer := w.kc.Issuer("rotation")
	oldKid, oldProvider, err := w.kc.SigningKey("rotation")
	if err != nil {
		t.Fatal(err)
	}
	oldToken, err := w.kc.Token(issuer, w.rotator.ClientID, w.rotator.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if st := f.status("/rotation", oldToken); st != http.StatusOK {
		t.Fatalf("before the rotation a token signed with %s got %d, want 200", oldKid, st)
	}

	// Steady load with the old token, which stays valid: its key stays in
	// the realm until the old provider is disabled.
	var sent, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(rotationPace):
				}
				sent.Add(1)
				if st := f.status("/rotation", oldToken); st != http.StatusOK {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, st)
				}
			}
		}()
	}
	var stopOnce sync.Once
	stopLoad := func() { stopOnce.Do(func() { close(stop); wg.Wait() }) }
	defer stopLoad()

	if _, err := w.kc.AddRSAKeyProvider("rotation", fmt.Sprintf("rotated-%d", priority), priority); err != nil {
		t.Fatal(err)
	}
	rotated := time.Now()
	var newToken, newKid string
	for newKid == "" || newKid == oldKid {
		if time.Since(rotated) > 10*time.Second {
			t.Fatalf("Keycloak still signs with %s 10 s after a key provider of priority %d was added", oldKid, priority)
		}
		if newToken, err = w.kc.Token(issuer, w.rotator.ClientID, w.rotator.Secret); err != nil {
			t.Fatal(err)
		}
		newKid = kidOf(t, newToken)
	}
	firstUse := time.Now()
	refused := 0
	for {
		st := f.status("/rotation", newToken)
		if st == http.StatusOK {
			break
		}
		if st != http.StatusUnauthorized {
			t.Fatalf("a token signed with the new key %s got %d; only 401 (unknown key) is expected before it is accepted", newKid, st)
		}
		refused++
		if time.Since(firstUse) > 20*time.Second {
			t.Fatalf("%s did not accept a token signed with the new key %s within 20 s (%d requests refused)", f.name, newKid, refused)
		}
		time.Sleep(rotationPace)
	}
	accepted := time.Now()
	time.Sleep(300 * time.Millisecond) // the load goes on past the new configuration
	stopLoad()
	latency := accepted.Sub(firstUse)
	t.Logf("ROTATION %s: key provider added -> first new-kid token accepted %v; first new-kid request -> accepted %v; "+
		"new-kid requests refused (one every %v): %d; old-kid requests under load: %d sent, %d failed",
		f.name, accepted.Sub(rotated).Round(time.Millisecond), latency.Round(time.Millisecond), rotationPace, refused,
		sent.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests with the still-valid old token failed during the rotation (first: %v)", failed.Load(), sent.Load(), firstFailure.Load())
	}
	limit := rotationLimits[f.name]
	if latency > limit.latency {
		t.Errorf("rotation latency %v, want at most %v", latency, limit.latency)
	}
	if refused > limit.refused {
		t.Errorf("%d valid new-kid requests refused, want at most %d", refused, limit.refused)
	}

	// Retire the old key: Keycloak drops it from the key set, and new
	// tokens go on being accepted.
	if err := w.kc.DisableKeyProvider("rotation", oldProvider); err != nil {
		t.Fatal(err)
	}
	kids := w.publishedKids(t, issuer)
	if kids[oldKid] || !kids[newKid] {
		t.Fatalf("after disabling the old provider Keycloak publishes %v; want %s and not %s", kids, newKid, oldKid)
	}
	later, err := w.kc.Token(issuer, w.rotator.ClientID, w.rotator.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, later) != newKid {
		t.Fatalf("after disabling the old provider Keycloak signs with %s, want %s", kidOf(t, later), newKid)
	}
	if st := f.status("/rotation", later); st != http.StatusOK {
		t.Fatalf("after the old key was retired a new token got %d, want 200", st)
	}
}

// outage cuts Keycloak off from the front's key fetcher: tokens keep being
// accepted with the last good keys until max_stale after the last
// successful fetch, then get 503 with Retry-After; once Keycloak is back the
// keys return.
func (w *world) outage(t *testing.T, f *front) {
	issuer := w.sw.url() + "/realms/models"
	tok, err := w.kc.Token(issuer, w.scorer.ClientID, w.scorer.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if st := f.status("/outage", tok); st != http.StatusOK {
		t.Fatalf("with Keycloak up a token got %d, want 200", st)
	}
	w.sw.off()
	off := time.Now()
	reconnected := false
	defer func() {
		if !reconnected {
			_ = w.sw.on()
		}
	}()
	var lastOK, withdrawn time.Duration
	for withdrawn == 0 {
		a, err := f.get("/outage", tok)
		if err != nil {
			t.Fatal(err)
		}
		since := time.Since(off)
		switch a.status {
		case http.StatusOK:
			lastOK = since
		case http.StatusServiceUnavailable:
			withdrawn = since
			if a.header.Get("Retry-After") == "" {
				t.Errorf("the 503 has no Retry-After")
			}
		default:
			t.Fatalf("%v after Keycloak went away a valid token got %d (%s); want 200 until max_stale, then 503", since, a.status, a.body)
		}
		if since > maxStale+25*time.Second {
			t.Fatalf("%s still accepted tokens %v after Keycloak went away (max_stale %v)", f.name, since, maxStale)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("OUTAGE %s: max_stale %v; last accepted %v after Keycloak went away, first 503 after %v",
		f.name, maxStale, lastOK.Round(time.Millisecond), withdrawn.Round(time.Millisecond))
	// The fetcher refreshes every second, so its last success was at most
	// about a second before the cut: the keys stay for most of max_stale.
	if lastOK < maxStale/2 {
		t.Errorf("the last good keys were used for only %v after Keycloak went away; want at least %v (max_stale %v)", lastOK, maxStale/2, maxStale)
	}
	for range 3 {
		if st := f.status("/outage", tok); st != http.StatusServiceUnavailable {
			t.Fatalf("with Keycloak still away a token got %d, want 503 again", st)
		}
	}

	if err := w.sw.on(); err != nil {
		t.Fatal(err)
	}
	reconnected = true
	back := time.Now()
	for f.status("/outage", tok) != http.StatusOK {
		if time.Since(back) > 20*time.Second {
			t.Fatalf("%s did not accept tokens again within 20 s of Keycloak's return", f.name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("OUTAGE %s: accepted again %v after Keycloak came back", f.name, time.Since(back).Round(time.Millisecond))
}

// publishedKids returns the kids of the realm's signing keys in its key set.
func (w *world) publishedKids(t *testing.T, issuer string) map[string]bool {
	t.Helper()
	resp, err := http.Get(issuer + "/protocol/openid-connect/certs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, Use string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decoding Keycloak's key set: %v", err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		if k.Use == "sig" {
			kids[k.Kid] = true
		}
	}
	return kids
}

// kidOf returns the kid of a compact JWS.
func kidOf(t *testing.T, token string) string {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("decoding a token header: %v", err)
	}
	var hdr struct{ Kid string }
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatalf("decoding a token header: %v", err)
	}
	return hdr.Kid
}

// tamper flips a bit of the token's signature.
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 1
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
