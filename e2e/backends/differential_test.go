package backends

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
)

const audience = "api://models"

// credential is one of the three ways each hostile request is sent.
type credential struct {
	name    string
	token   string // "" for none
	subject string // the sub claim tokengate verifies and forwards as x-user
	admin   bool   // whether the token grants scope admin
}

// world is the issuer, the credentials and the plugin configuration.
type world struct {
	creds  [3]credential // none, user, admin
	forged string        // signed with a key tokengate does not know; sub mallory, scope admin
	config string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	iss, err := issuer.New("https://idp.test/realms/models", issuer.RS256)
	if err != nil {
		t.Fatal(err)
	}
	forger, err := issuer.New(iss.URL, issuer.RS256) // same issuer URL and kid, other key
	if err != nil {
		t.Fatal(err)
	}
	mint := func(mi *issuer.Issuer, sub, scope string) string {
		tok, err := mi.Mint(issuer.Claims{"sub": sub, "aud": audience, "scope": scope}, issuer.WithTTL(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	w := &world{forged: mint(forger, "mallory", "admin")}
	w.creds = [3]credential{
		{name: "none"},
		{name: "user", token: mint(iss, "alice", "read"), subject: "alice"},
		{name: "admin", token: mint(iss, "ada", "read admin"), subject: "ada", admin: true},
	}
	jwks := string(iss.JWKS())
	// The README's shape: a realm, the rules public / admin scope / any
	// valid token. Provider corp reads the Authorization header (the
	// default); provider web reads the access_token query parameter and the
	// session cookie and leaves the token in place for the application
	// ("forward": true), which is what makes repeated parameters and cookies
	// dangerous. Both forward the subject as x-user.
	w.config = `{
  "realm": "models",
  "providers": {
    "corp": {"issuer": "` + iss.URL + `", "audiences": ["` + audience + `"], "jwks": ` + jwks + `,
      "claim_to_headers": [{"claim": "sub", "header": "x-user"}]},
    "web": {"issuer": "` + iss.URL + `", "audiences": ["` + audience + `"], "jwks": ` + jwks + `,
      "from_params": ["access_token"], "from_cookies": ["session"], "forward": true,
      "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}
  },
  "rules": [
    {"match": {"prefix": "/public"}},
    {"match": {"prefix": "/admin"}, "requires": {"scopes": ["admin"]}},
    {"match": {"prefix": "/"}, "requires": {}}
  ]
}`
	return w
}

// under reports whether path is prefix or below it, on whole segments, as
// tokengate's rules match.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// violations are the ways in which a back-end's 200 for cred broke the
// invariant: tokengate must decide on the request the back-end acts on.
func violations(cred credential, want string, rep *report, names *strings.Replacer) []string {
	var v []string
	if rep.Backend != want {
		v = append(v, fmt.Sprintf("answered by back-end %q, not %q", rep.Backend, want))
	}
	public := under(rep.Path, "/public")
	if under(rep.Path, "/admin") && !cred.admin {
		v = append(v, fmt.Sprintf("served admin resource %q to credential %q", rep.Path, cred.name))
	}
	if cred.token == "" && !public {
		v = append(v, fmt.Sprintf("served non-public resource %q without a credential", rep.Path))
	}
	for _, h := range rep.XUser {
		switch {
		case cred.subject == "":
			v = append(v, fmt.Sprintf("saw %s: %q without a verified subject", h.Name, h.Value))
		case h.Value != cred.subject:
			v = append(v, fmt.Sprintf("saw %s: %q, verified subject %q", h.Name, h.Value, cred.subject))
		}
	}
	if !public {
		for _, r := range []struct {
			what   string
			values []string
		}{{"access_token parameter", rep.AccessToken}, {"session cookie", rep.Session}} {
			for _, val := range r.values {
				if val != cred.token {
					v = append(v, fmt.Sprintf("read %s %s, not the verified token", r.what, names.Replace(fmt.Sprintf("%q", val))))
				}
			}
		}
	}
	return v
}

// tokenNames writes tokens in logs as GOOD (the credential's own) and
// FORGED, so that a reader sees which one a back-end read.
func tokenNames(cred credential, forged string) *strings.Replacer {
	if cred.token == "" {
		return strings.NewReplacer(forged, "FORGED")
	}
	return strings.NewReplacer(cred.token, "GOOD", forged, "FORGED")
}

// outcome is what one request got.
type outcome struct {
	status int     // 0: no answer
	rep    *report // the back-end's report, when it answered
	seen   string  // the identity and tokens the back-end saw, for the table
	bad    []string
}

// seen summarises the x-user values, access_token parameters and session
// cookies in rep.
func seen(rep *report, names *strings.Replacer) string {
	var parts []string
	for _, h := range rep.XUser {
		parts = append(parts, h.Name+"="+h.Value)
	}
	for _, v := range rep.AccessToken {
		parts = append(parts, "access_token="+names.Replace(v))
	}
	for _, v := range rep.Session {
		parts = append(parts, "session="+names.Replace(v))
	}
	return strings.Join(parts, " ")
}

// cell is one case on one back-end, for the three credentials.
type cell [3]outcome

func (c cell) String() string {
	var b strings.Builder
	path, what := "", ""
	bypass := false
	for i, o := range c {
		if i > 0 {
			b.WriteByte(' ')
		}
		if o.status == 0 {
			b.WriteString("---")
		} else {
			fmt.Fprintf(&b, "%d", o.status)
		}
		if o.rep != nil {
			path = o.rep.Path
		}
		bypass = bypass || len(o.bad) > 0
	}
	if path != "" {
		fmt.Fprintf(&b, " %q", path)
	}
	for _, i := range []int{1, 2, 0} { // user, else admin, else none
		if c[i].rep != nil {
			what = c[i].seen
			break
		}
	}
	if what != "" {
		b.WriteString(" [" + what + "]")
	}
	if bypass {
		b.WriteString(" BYPASS")
	}
	return b.String()
}

// results collects the cells of one front.
type results struct {
	mu    sync.Mutex
	cells map[string]map[string]cell // case name -> back-end -> cell
}

func (r *results) put(caseName, backend string, c cell) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cells[caseName] == nil {
		r.cells[caseName] = map[string]cell{}
	}
	r.cells[caseName][backend] = c
}

// table renders what each back-end resolved per case, and a count of cases
// with a bypass per class and back-end.
func (r *results) table(cases []hostileCase, backends []*backend) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "class\tcase")
	for _, be := range backends {
		fmt.Fprint(tw, "\t"+be.name)
	}
	fmt.Fprintln(tw)
	type key struct{ class, backend string }
	bypasses := map[key]int{}
	var classes []string
	for _, c := range cases {
		if !slices.Contains(classes, c.class) {
			classes = append(classes, c.class)
		}
		fmt.Fprintf(tw, "%s\t%s", c.class, c.name)
		for _, be := range backends {
			cl, ok := r.cells[c.name][be.name]
			if !ok {
				fmt.Fprint(tw, "\t(not run)")
				continue
			}
			fmt.Fprint(tw, "\t"+cl.String())
			if strings.HasSuffix(cl.String(), "BYPASS") {
				bypasses[key{c.class, be.name}]++
			}
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintln(tw)
	fmt.Fprint(tw, "class\tcases with a bypass")
	for _, be := range backends {
		fmt.Fprint(tw, "\t"+be.name)
	}
	fmt.Fprintln(tw)
	for _, class := range classes {
		fmt.Fprintf(tw, "%s\t", class)
		for _, be := range backends {
			fmt.Fprintf(tw, "\t%d", bypasses[key{class, be.name}])
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	return b.String()
}

// TestBackendsActOnlyOnWhatTokengateAllowed sends every hostile case with
// every credential through each form of tokengate to each back-end, and
// fails on any 200 whose report shows the back-end acting on something
// tokengate did not allow.
func TestBackendsActOnlyOnWhatTokengateAllowed(t *testing.T) {
	w := newWorld(t)
	backends := []*backend{startGoBackend(t), startWerkzeugBackend(t), startTomcatBackend(t)}
	sw := startSwitch(t, backends)
	cases := hostileCases()
	fronts := []struct {
		name  string
		start func(t *testing.T, cfg string, upstreamPort int) *front
	}{
		{"tokengate-proxy", startTokengateProxy},
		{"envoy", startEnvoy},
	}
	for _, f := range fronts {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			fr := f.start(t, w.config, sw.port())
			res := &results{cells: map[string]map[string]cell{}}
			for _, be := range backends {
				t.Run(be.name, func(t *testing.T) {
					be.skipIfUnavailable(t)
					runCases(t, fr, be, w, cases, res)
				})
			}
			t.Logf("what each back-end resolved behind %s; each cell: the status without a credential, with the user "+
				"token and with the admin token, the path the back-end routed on, [the x-user headers and tokens it saw "+
				"for the user's request, else the admin's, else the one without credential], BYPASS when the invariant broke:\n%s",
				f.name, res.table(cases, backends))
		})
	}
}

// runCases sends cases to be through fr, a few at a time, and then the
// controls again: a request that got no answer counts as refused, so the
// front must be shown to be still serving afterwards.
func runCases(t *testing.T, fr *front, be *backend, w *world, cases []hostileCase, res *results) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	work := make(chan hostileCase)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				res.put(c.name, be.name, runCase(ctx, t, fr, be, w, c))
			}
		}()
	}
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	for _, c := range cases {
		if c.want != nil {
			c.name += " (after the hostile requests)"
			runCase(ctx, t, fr, be, w, c)
		}
	}
}

// runCase sends c with each credential and checks the answers.
func runCase(ctx context.Context, t *testing.T, fr *front, be *backend, w *world, c hostileCase) cell {
	var out cell
	for i, cred := range w.creds {
		names := tokenNames(cred, w.forged)
		raw, method := c.render(be.host, cred.token, w.forged)
		resp, _, err := exchangeRaw(ctx, fr.addr, raw, method)
		o := &out[i]
		if err == nil {
			o.status = resp.StatusCode
			o.rep, err = decodeReport(resp.Header)
			if err != nil {
				t.Errorf("%s / %s with %s: %v", c.class, c.name, cred.name, err)
			}
		}
		switch {
		case o.status == 200 && o.rep == nil:
			o.bad = []string{"200 without a back-end report"}
		case o.status == 200:
			o.bad = violations(cred, be.name, o.rep, names)
		}
		if o.rep != nil {
			o.seen = seen(o.rep, names)
		}
		if len(o.bad) > 0 {
			t.Errorf("BYPASS %s / %s with credential %s: %s\n\trequest: %q\n\tback-end resolved path %q from %q",
				c.class, c.name, cred.name, strings.Join(o.bad, "; "), names.Replace(string(raw)), pathOf(o.rep), names.Replace(uriOf(o.rep)))
		}
		if c.want != nil {
			checkControl(t, c, cred, o.status, c.want[i], o.rep)
		}
	}
	return out
}

// checkControl holds a positive control to its expected status, and to
// the back-end seeing the verified subject as x-user and, where the control
// says so, the token where it was sent.
func checkControl(t *testing.T, c hostileCase, cred credential, status, want int, rep *report) {
	t.Helper()
	if status != want {
		t.Errorf("control %q with credential %s: status %d, want %d", c.name, cred.name, status, want)
		return
	}
	if status != 200 || cred.token == "" || rep == nil || under(rep.Path, "/public") {
		return
	}
	if len(rep.XUser) != 1 || rep.XUser[0].Value != cred.subject {
		t.Errorf("control %q with credential %s: the back-end saw x-user %v, want exactly %q", c.name, cred.name, rep.XUser, cred.subject)
	}
	got := map[string][]string{"access_token": rep.AccessToken, "session": rep.Session}[c.reads]
	if c.reads != "" && !slices.Equal(got, []string{cred.token}) {
		t.Errorf("control %q with credential %s: the back-end read %s %q, want the token", c.name, cred.name, c.reads, got)
	}
}

func pathOf(r *report) string {
	if r == nil {
		return ""
	}
	return r.Path
}

func uriOf(r *report) string {
	if r == nil {
		return ""
	}
	return r.URI
}
