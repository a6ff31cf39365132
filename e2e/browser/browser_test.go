package browser

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tokengate/tokengate/e2e/internal/mlflowtest"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/keycloaktest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	keycloaktest.Stop()
	os.Exit(code)
}

// TestMLflowUI runs docs/guide-mlflow-ui.md with real parts: Keycloak, mlflow
// server, Envoy 1.40 and tokengate-proxy in front of it, and Chromium
// signing in on Keycloak's login page.
func TestMLflowUI(t *testing.T) {
	bin := chromium(t)
	envoytest.Binary(t)
	begin := time.Now()
	ml := startMLflow(t)
	kc := keycloaktest.Start(t)
	fronts := []*front{newFront(t, "envoy"), newFront(t, "tokengate-proxy")}
	var bases []string
	for _, f := range fronts {
		bases = append(bases, f.base)
	}
	r := setUpRealm(t, kc, bases)
	ml.Wait(t, 180*time.Second)
	tp := mlflowtest.NewTap(t, ml.Port, "__Host-tokengate")
	tapPort := tp.Port
	kcURL, err := url.Parse(kc.URL)
	if err != nil {
		t.Fatal(err)
	}
	var kcPort int
	fmt.Sscan(kcURL.Port(), &kcPort)
	fronts[0].startEnvoy(t, r.config(t, fronts[0].base), tapPort, kcPort)
	fronts[1].startProxy(t, r.config(t, fronts[1].base), tapPort, kc.URL)
	t.Logf("Keycloak, mlflow server, Envoy and tokengate-proxy ready: %v", time.Since(begin).Round(time.Millisecond))

	for _, f := range fronts {
		t.Run(f.name, func(t *testing.T) {
			signInAndUseTheUI(t, bin, f, r, ml, tp)
		})
	}
}

// signInAndUseTheUI is the whole story on one front.
func signInAndUseTheUI(t *testing.T, bin string, f *front, r *realm, ml *mlflowtest.Server, tp *mlflowtest.Tap) {
	auth := r.kc.Issuer(realmName) + "/protocol/openid-connect/auth"
	b := newBrowser(t, bin)

	// 1. The UI sends the browser to Keycloak's own login page.
	b.do(60*time.Second, "opening the MLflow UI",
		chromedp.Navigate(f.base+"/"),
		waitLocation(auth),
		chromedp.WaitVisible(chromedp.ID("username")))
	if q := mustQuery(t, b.location()); q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "mlflow-ui" {
		t.Fatalf("the authorization request lacks PKCE or the client: %s", b.location())
	}
	stateCookie := b.cookies(f.base)["__Host-tokengate-state"]
	if stateCookie == "" {
		t.Fatalf("no state cookie in the browser before signing in: %v", b.cookies(f.base))
	}

	// 2. Sign in; back on the UI, which lists the experiments.
	signedInAt := time.Now()
	b.do(60*time.Second, "signing in on Keycloak's login page",
		chromedp.SendKeys(chromedp.ID("username"), r.user),
		chromedp.SendKeys(chromedp.ID("password"), r.password),
		chromedp.Click(chromedp.ID("kc-login")),
		waitLocation(f.base+"/"),
		chromedp.Navigate(f.base+"/#/experiments"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="experiment-list-item"]`)))
	if !strings.Contains(b.text(), "Default") {
		t.Fatalf("the experiments list does not show the Default experiment:\n%s", clip(b.text(), 2000))
	}
	shot := filepath.Join(t.ArtifactDir(), "mlflow-ui-signed-in-"+f.name+".png")
	if err := os.WriteFile(shot, b.screenshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the signed-in MLflow UI: %s", shot)
	callback := b.requested(f.base + "/oauth2/callback?")
	cookies := b.cookies(f.base)
	session := sessionCookies(cookies)
	if callback == "" || len(session) == 0 || cookies["__Host-tokengate-state"] != "" {
		t.Fatalf("after the sign-in: callback %q, cookies %v", callback, cookies)
	}

	// 3. Create an experiment from the UI; MLflow has it.
	name := "browser-" + f.name
	b.do(60*time.Second, "creating an experiment in the UI",
		chromedp.Click(chromedp.CSS(`[data-testid="create-experiment-button"]`)),
		chromedp.WaitVisible(chromedp.ID("experimentName")),
		chromedp.SendKeys(chromedp.ID("experimentName"), name),
		chromedp.Click(chromedp.CSS(`[role="dialog"] button.du-bois-light-btn-primary:not([disabled])`)))
	for deadline := time.Now().Add(30 * time.Second); !ml.ExperimentExists(name); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("MLflow has no experiment %q 30s after the UI created it; the browser shows:\n%s", name, clip(b.text(), 2000))
		}
	}
	if n := tp.WithCookie.Load(); n != 0 {
		t.Errorf("%d requests reached MLflow with tokengate's cookies", n)
	}
	if n := tp.WithAuthorization.Load(); n != 0 {
		t.Errorf("%d requests reached MLflow with an Authorization header; the provider does not say \"forward\"", n)
	}

	// 4. What an attacker can forge or replay is refused.
	t.Run("a wrong state is refused", func(t *testing.T) {
		start := send(t, "GET", f.base+"/", "accept", "text/html")
		state := start.header.Get("Set-Cookie")
		pair, _, _ := strings.Cut(state, ";")
		a := send(t, "GET", f.base+"/oauth2/callback?code=x&state=wrong", "accept", "text/html", "cookie", pair)
		if start.status != 302 || a.status != 400 || !strings.Contains(a.body, "no sign-in started in this browser") {
			t.Fatalf("start %d, callback %d %s", start.status, a.status, a.body)
		}
	})
	t.Run("a tampered session cookie is refused and cleared", func(t *testing.T) {
		tampered := map[string]string{}
		for k, v := range cookies {
			tampered[k] = v
		}
		v := tampered["__Host-tokengate"]
		i := len(v) / 2
		tampered["__Host-tokengate"] = v[:i] + string("AB"[(strings.IndexByte("AB", v[i])+1)%2]) + v[i+1:]
		a := send(t, "GET", f.base+"/ajax-api/2.0/mlflow/experiments/search?max_results=5", "cookie", cookieHeader(tampered, session...))
		if a.status != 401 || !strings.Contains(a.body, "session cookie is not valid") || !strings.Contains(strings.Join(a.header.Values("Set-Cookie"), "\n"), "__Host-tokengate=; Path=/; Max-Age=0") {
			t.Fatalf("%d %s %v", a.status, a.body, a.header.Values("Set-Cookie"))
		}
	})
	t.Run("the same deployment serves a Bearer token of the client-credentials grant", func(t *testing.T) {
		tok, err := r.kc.Token(r.kc.Issuer(realmName), r.ci.ClientID, r.ci.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if a := send(t, "GET", f.base+"/api/2.0/mlflow/experiments/search?max_results=5", "authorization", "Bearer "+tok); a.status != 200 || !strings.Contains(a.body, name) {
			t.Fatalf("with the token: %d %s", a.status, clip(a.body, 300))
		}
		a := send(t, "GET", f.base+"/api/2.0/mlflow/experiments/search?max_results=5", "accept", "text/html")
		if a.status != 401 || a.header.Get("WWW-Authenticate") != `Bearer realm="mlflow"` {
			t.Fatalf("a page load of the API without a token (\"login\": false): %d %q", a.status, a.header.Get("WWW-Authenticate"))
		}
	})

	// 5. Once the access token expired, the session is refreshed on the
	// next page load, without a new sign-in; the UI goes on working.
	time.Sleep(time.Until(signedInAt.Add(accessLifespan + 2*time.Second)))
	before := b.cookies(f.base)["__Host-tokengate"]
	refreshed := f.stats("session_refreshed")
	signIns := b.count(auth)
	b.do(60*time.Second, "using the UI after the access token expired",
		chromedp.Navigate(f.base+"/#/experiments"),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="experiment-list-item"]`)))
	if !strings.Contains(b.text(), name) {
		t.Fatalf("after the refresh the list lacks %q:\n%s", name, clip(b.text(), 2000))
	}
	after := b.cookies(f.base)
	if after["__Host-tokengate"] == before || after["__Host-tokengate"] == "" {
		t.Fatal("the session cookie did not change after the access token expired: no refresh")
	}
	if n := b.count(auth); n != signIns {
		t.Fatalf("the browser went to sign in again (%d times) instead of refreshing the session:\n%s", n-signIns, loginLines(f.log()))
	}
	for deadline := time.Now().Add(5 * time.Second); f.stats("session_refreshed") <= refreshed; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s counted %d session refreshes, as before the access token expired:\n%s", f.name, f.stats("session_refreshed"), loginLines(f.log()))
		}
	}
	t.Logf("session refreshes counted by %s: %d before the access token expired, %d after", f.name, refreshed, f.stats("session_refreshed"))
	oldSession := cookieHeader(after, sessionCookies(after)...)

	// Replaying the callback of the finished sign-in makes the provider
	// refuse the code; Keycloak also revokes what the code gave (RFC 6749
	// §4.1.2), so this comes after the refresh.
	t.Run("the callback of a finished sign-in (a replayed code) is refused by Keycloak", func(t *testing.T) {
		a := send(t, "GET", callback, "accept", "text/html", "cookie", "__Host-tokengate-state="+stateCookie)
		if a.status != 400 || !strings.Contains(a.body, "refused the authorization code") {
			t.Fatalf("%d %s", a.status, a.body)
		}
	})

	// 6. Sign out: Keycloak ends its session and sends the browser back;
	// the next visit needs a new sign-in.
	b.do(60*time.Second, "signing out",
		chromedp.Navigate(f.base+"/oauth2/logout"),
		waitLocation(auth),
		chromedp.WaitVisible(chromedp.ID("username")))
	if left := sessionCookies(b.cookies(f.base)); len(left) != 0 {
		t.Fatalf("session cookies left after the logout: %v", left)
	}
	if !b.waitedFor(f.base + "/oauth2/logout") {
		t.Fatal("the browser never went through the logout path")
	}

	t.Run("the cookie of a signed-out session is refused once its token is due", func(t *testing.T) {
		time.Sleep(time.Until(time.Now().Add(accessLifespan / 2)))
		a := send(t, "GET", f.base+"/ajax-api/2.0/mlflow/experiments/search?max_results=5", "cookie", oldSession)
		if a.status != 401 || !strings.Contains(a.body, "the provider ended the session") {
			t.Fatalf("%d %s", a.status, a.body)
		}
	})
}

// waitedFor reports whether the browser requested a URL with the prefix.
func (b *browser) waitedFor(prefix string) bool { return b.requested(prefix) != "" }

// loginLines are the sign-in lines of a front's log, for a failure message.
func loginLines(log string) string {
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "denied with") || strings.Contains(l, "sign-in") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
