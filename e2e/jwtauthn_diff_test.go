package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/issuer"
)

// The jwt_authn differential: every token of one corpus goes through Envoy
// with its native envoy.filters.http.jwt_authn filter and through Envoy with
// tokengate, both configured with the same keys, issuer and audience, and the
// two answers are compared. Two verifiers that disagree are a finding: either
// one of them is wrong, or the difference is deliberate and written down.
// docs/security-rules.md ("Differences from Envoy's jwt_authn") is that
// list, and this test reads it: a difference that is not listed fails, and
// so does a listed difference that no longer occurs, so the document cannot
// drift from what the two filters do.
//
// The jwt_authn side is the bootstrap of `make bench` (build/envoy,
// RenderJWTAuthn: local_jwks inline, issuer, audiences, forward: false, one
// rule requiring the provider for every path).

// The issuer URL and audience are those of the gate's differential fuzz
// target, so that its seed corpus is signed here unchanged.
const (
	diffIssuer   = "https://idp.example.com/realms/ml"
	diffAudience = "api://scoring"
	diffDoc      = "docs/security-rules.md"
	diffSection  = "## Differences from Envoy's jwt_authn"
)

// diffAlgorithms are the algorithms tokengate accepts, in the key order of the
// gate's differential fuzz target (its seeds name a key by this index).
var diffAlgorithms = []issuer.Algorithm{issuer.RS256, issuer.ES256, issuer.RS384, issuer.RS512, issuer.PS256,
	issuer.PS384, issuer.PS512, issuer.ES384, issuer.ES512, issuer.EdDSA}

// diffToken is one corpus entry: the Authorization header value (or the
// access_token query parameter, if query is set), and the case it belongs
// to. Every token of a case must get the same pair of answers.
type diffToken struct {
	kind          string // the case, as docs/security-rules.md names it
	name          string // this token, for messages
	authorization string
	query         string
}

// diffAnchors are cases whose answer is not in doubt: two proxies that
// refused everything (a key set neither could read) or accepted everything
// would agree on every other case.
var diffAnchors = map[string]string{
	"valid":                       "accept",
	"aud array with the audience": "accept",
	"bad signature":               "401",
	"expired":                     "401",
	"unknown kid":                 "401",
	"alg none":                    "401",
}

// diffExpected is one row of the documented differences: the answer of each
// filter ("accept" or a status code).
type diffExpected struct {
	jwtAuthn, tokengate string
}

func TestJWTAuthnDifferential(t *testing.T) {
	envoytest.Binary(t) // skip or fail before generating keys
	started := time.Now()
	iss, err := issuer.New(diffIssuer, diffAlgorithms...)
	if err != nil {
		t.Fatal(err)
	}
	forger, err := issuer.New(diffIssuer, diffAlgorithms...) // same kids, keys nobody published
	if err != nil {
		t.Fatal(err)
	}
	listed, err := readListedDifferences(filepath.Join("..", diffDoc))
	if err != nil {
		t.Fatal(err)
	}
	up, hits := upstream(t)
	jwks := string(iss.JWKS())
	gate := startEnvoy(t, `{"realm":"api","providers":{"corp":{"issuer":"`+diffIssuer+`","audiences":["`+diffAudience+
		`"],"jwks":`+jwks+`}},"rules":[{"match":{"prefix":"/"},"requires":{"providers":["corp"]}}]}`, up, nil)
	authn := startJWTAuthn(t, envoy.JWTAuthn{Issuer: diffIssuer, Audiences: []string{diffAudience}, JWKS: jwks}, up)
	// The corpus is signed now, not before the proxies start, so that its
	// times (exp, nbf, iat a few seconds from the limits) mean at the
	// request what they meant when they were written.
	corpus := diffCorpus(t, iss, forger)
	t.Logf("both proxies ready and %d tokens signed after %s", len(corpus), time.Since(started).Round(time.Millisecond))

	client := &http.Client{Timeout: 10 * time.Second}
	type outcome struct{ jwtAuthn, tokengate string }
	byKind := map[string]map[outcome][]string{}
	var kinds []string
	bodies := map[string][2]string{} // kind → both answers' texts, for the listed rows
	for _, tok := range corpus {
		before := hits.Load()
		a, body := diffAnswer(t, client, authn, tok)
		g, why := diffAnswer(t, client, gate, tok)
		if a != g {
			// A token whose time claims sit on a limit of the clock skew
			// can see the second change between its two requests; a real
			// difference answers the same the second time.
			before = hits.Load()
			a, body = diffAnswer(t, client, authn, tok)
			g, why = diffAnswer(t, client, gate, tok)
		}
		wantHits := int64(0)
		for _, s := range []string{a, g} {
			if s == "accept" {
				wantHits++
			}
		}
		if got := hits.Load() - before; got != wantHits {
			t.Errorf("%s: the upstream saw %d requests, want %d (jwt_authn %s, tokengate %s)", tok.name, got, wantHits, a, g)
		}
		if a != g {
			bodies[tok.kind] = [2]string{body, why}
		}
		if byKind[tok.kind] == nil {
			byKind[tok.kind] = map[outcome][]string{}
			kinds = append(kinds, tok.kind)
		}
		o := outcome{a, g}
		byKind[tok.kind][o] = append(byKind[tok.kind][o], tok.name)
	}

	var found []string
	agreed := map[string][]string{}
	for _, kind := range kinds {
		outcomes := byKind[kind]
		t.Run(kind, func(t *testing.T) {
			if len(outcomes) != 1 {
				var b strings.Builder
				for o, names := range outcomes {
					fmt.Fprintf(&b, "\n  jwt_authn %s, tokengate %s: %s", o.jwtAuthn, o.tokengate, strings.Join(names, ", "))
				}
				t.Fatalf("the tokens of this case got different answers; split the case:%s", b.String())
			}
			for o := range outcomes {
				if want, ok := diffAnchors[kind]; ok && (o.jwtAuthn != want || o.tokengate != want) {
					t.Errorf("jwt_authn answers %s, tokengate %s; both must answer %s, or the comparison proves nothing",
						o.jwtAuthn, o.tokengate, want)
				}
				want, isListed := listed[kind]
				switch {
				case o.jwtAuthn != o.tokengate && !isListed:
					t.Errorf("jwt_authn answers %s, tokengate %s: a difference %s does not list", o.jwtAuthn, o.tokengate, diffDoc)
				case isListed && o.jwtAuthn == o.tokengate:
					t.Errorf("listed in %s as a difference (jwt_authn %s, tokengate %s), but both now answer %s",
						diffDoc, want.jwtAuthn, want.tokengate, o.jwtAuthn)
				case isListed && (want.jwtAuthn != o.jwtAuthn || want.tokengate != o.tokengate):
					t.Errorf("%s lists jwt_authn %s, tokengate %s; they answer %s and %s",
						diffDoc, want.jwtAuthn, want.tokengate, o.jwtAuthn, o.tokengate)
				}
				if o.jwtAuthn != o.tokengate {
					found = append(found, fmt.Sprintf("%s: jwt_authn %s %q, tokengate %s %q", kind, o.jwtAuthn, bodies[kind][0], o.tokengate, bodies[kind][1]))
				} else {
					agreed[o.jwtAuthn] = append(agreed[o.jwtAuthn], kind)
				}
			}
		})
	}
	for kind := range listed {
		if byKind[kind] == nil {
			t.Errorf("%s lists the case %q, which the corpus does not have", diffDoc, kind)
		}
	}
	if errs := gate.env.WasmErrors(); len(errs) > 0 {
		t.Errorf("Wasm errors in Envoy's log:\n%s", strings.Join(errs, "\n"))
	}
	for _, answer := range sortedKeys(agreed) {
		t.Logf("both answer %s: %s", answer, strings.Join(agreed[answer], "; "))
	}
	t.Logf("%d tokens in %d cases, %d differences:\n%s", len(corpus), len(kinds), len(found), strings.Join(found, "\n"))
	t.Logf("run time %s", time.Since(started).Round(time.Millisecond))
}

// startJWTAuthn runs Envoy with the jwt_authn bootstrap of `make bench` in
// front of up.
func startJWTAuthn(t *testing.T, j envoy.JWTAuthn, up *httptest.Server) *proxy {
	t.Helper()
	j.AdminPort, j.ListenPort = envoytest.FreePort(t), envoytest.FreePort(t)
	if _, err := fmt.Sscanf(up.URL, "http://127.0.0.1:%d", &j.UpstreamPort); err != nil {
		t.Fatalf("upstream URL %s: %v", up.URL, err)
	}
	yaml, err := envoy.RenderJWTAuthn(j)
	if err != nil {
		t.Fatal(err)
	}
	e := envoytest.Start(t, yaml, j.AdminPort)
	p := &proxy{env: e, base: fmt.Sprintf("http://127.0.0.1:%d", j.ListenPort)}
	p.waitListener(t)
	return p
}

// diffAnswer sends tok through p and returns "accept" for a request that
// reached the upstream, otherwise the status code and the reason given (the
// WWW-Authenticate header and the body).
func diffAnswer(t *testing.T, client *http.Client, p *proxy, tok diffToken) (string, string) {
	t.Helper()
	path := "/v1/score"
	if tok.query != "" {
		path += "?access_token=" + tok.query
	}
	req, err := http.NewRequest(http.MethodGet, p.base+path, nil)
	if err != nil {
		t.Fatalf("%s: %v", tok.name, err)
	}
	if tok.authorization != "" {
		req.Header.Set("Authorization", tok.authorization)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", tok.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if err != nil {
		t.Fatalf("%s: reading the answer: %v", tok.name, err)
	}
	if resp.StatusCode == http.StatusOK {
		return "accept", ""
	}
	return strconv.Itoa(resp.StatusCode), strings.TrimSpace(resp.Header.Get("WWW-Authenticate") + " " + string(body))
}

// readListedDifferences reads the table of the section diffSection of the
// document at path: the first column names the case in backticks, the second
// and third start with jwt_authn's and tokengate's answer ("accepted", or a
// text with the status code).
func readListedDifferences(path string) (map[string]diffExpected, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the listed differences: %w", err)
	}
	defer f.Close()
	out := map[string]diffExpected{}
	in := false
	caseName := regexp.MustCompile("^`([^`]+)`")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == diffSection
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cols) < 4 {
			return nil, fmt.Errorf("%s: a row of %q without four columns: %s", path, diffSection, line)
		}
		m := caseName.FindStringSubmatch(strings.TrimSpace(cols[0]))
		if m == nil {
			return nil, fmt.Errorf("%s: a row whose case is not in backticks: %s", path, line)
		}
		a, errA := documentedAnswer(cols[1])
		g, errG := documentedAnswer(cols[2])
		if errA != nil || errG != nil {
			return nil, fmt.Errorf("%s: row %q: %w", path, m[1], errors.Join(errA, errG))
		}
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("%s: the case %q is listed twice", path, m[1])
		}
		out[m[1]] = diffExpected{jwtAuthn: a, tokengate: g}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no section %q with a table of differences", path, diffSection)
	}
	return out, nil
}

var statusCode = regexp.MustCompile(`\b([45]\d\d)\b`)

// documentedAnswer reads one answer column: "accepted …" or a text whose
// first three-digit number is the status.
func documentedAnswer(col string) (string, error) {
	col = strings.TrimSpace(col)
	if strings.HasPrefix(col, "accepted") {
		return "accept", nil
	}
	if m := statusCode.FindStringSubmatch(col); m != nil {
		return m[1], nil
	}
	return "", fmt.Errorf("answer %q is neither \"accepted\" nor a status code", col)
}
