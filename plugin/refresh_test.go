//go:build !wasip1

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/refreshapi"
	"github.com/tokengate/tokengate/testhost"
)

// fetcherFunc answers the plugin's refresh calls in memory, as the
// "jwksfetch" upstream.
type fetcherFunc func(r *http.Request) (*http.Response, error)

func (f fetcherFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answer(status int, contentType string, body []byte) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(string(body))),
		ContentLength: int64(len(body)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

// TestPluginPausesForAKeyRefresh drives the real module: a token signed with
// a key its provider's set lacks pauses the request, the plugin asks the
// "jwksfetch" upstream, and the request goes on once the fetcher's answer
// holds the key; every way the answer can fail ends in the usual refusal.
func TestPluginPausesForAKeyRefresh(t *testing.T) { forEachEnvoy(t, testPluginPausesForAKeyRefresh) }

func testPluginPausesForAKeyRefresh(t *testing.T, opts ...testhost.Option) {
	idp, oldSet, newSet := rotatedIssuer(t)
	newToken := "Bearer " + token(t, idp, nil, issuer.WithKey("rotated"))
	cfg := `{"refresh": {"cluster": "jwksfetch", "timeout_ms": 300},
	  "providers": {"corp": {"issuer": "` + iss + `", "audiences": ["` + aud + `"], "jwks": ` + string(oldSet) + `,
	    "claim_to_headers": [{"claim": "sub", "header": "x-user"}]}}}`

	tests := []struct {
		name     string
		upstream string // the refresh cluster the configuration names
		fetcher  func(r *http.Request) (*http.Response, error)
		status   int // 0: continued upstream
		log      string
	}{
		{name: "the fetcher's set holds the kid: the request goes upstream",
			fetcher: func(*http.Request) (*http.Response, error) { return answer(200, refreshapi.ContentType, newSet), nil },
			log:     "installed the fetcher's key set for provider corp"},
		{name: "the fetcher's set still lacks the kid: 401",
			fetcher: func(*http.Request) (*http.Response, error) { return answer(200, refreshapi.ContentType, oldSet), nil },
			status:  401, log: "installed the fetcher's key set for provider corp"},
		{name: "the fetcher has no key set: 401",
			fetcher: func(*http.Request) (*http.Response, error) {
				return answer(503, "text/plain", []byte("no key set")), nil
			},
			status: 401, log: `the fetcher answered "503"`},
		{name: "an answer that is not a key set is refused: 401",
			fetcher: func(*http.Request) (*http.Response, error) { return answer(200, "text/html", newSet), nil },
			status:  401, log: "content-type"},
		{name: "a key set that does not parse is refused: 401",
			fetcher: func(*http.Request) (*http.Response, error) {
				return answer(200, refreshapi.ContentType, []byte(`{"keys":[],"keys":[]}`)), nil
			},
			status: 401, log: "keeping the keys in force"},
		{name: "the fetcher does not answer within timeout_ms: 401",
			fetcher: func(r *http.Request) (*http.Response, error) {
				select {
				case <-r.Context().Done():
					return nil, r.Context().Err()
				case <-time.After(5 * time.Second):
					return answer(200, refreshapi.ContentType, newSet), nil
				}
			},
			status: 401, log: "the call failed"},
		{name: "no upstream of that name: 401 at once", upstream: "nowhere",
			status: 401, log: "cannot send the key refresh request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			var query atomic.Value
			rt := fetcherFunc(func(r *http.Request) (*http.Response, error) {
				calls.Add(1)
				query.Store(r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + " accept=" + r.Header.Get("Accept"))
				return tt.fetcher(r)
			})
			c := cfg
			if tt.upstream != "" {
				c = strings.Replace(c, `"cluster": "jwksfetch"`, `"cluster": "`+tt.upstream+`"`, 1)
			}
			th := testhost.New(t, c, append(opts, testhost.WithHostOption(host.WithUpstreamTransport("jwksfetch", "http://jwksfetch", rt)))...)
			start := time.Now()
			res := th.Do(t, testhost.Request{Path: "/v1", Headers: [][2]string{{"authorization", newToken}}})
			elapsed := time.Since(start)
			logs := strings.Join(res.Logs, "\n")
			if !strings.Contains(logs, tt.log) {
				t.Errorf("the log does not say %q:\n%s", tt.log, logs)
			}
			if tt.status == 0 {
				if !res.Continued {
					t.Fatalf("refused with %d %s; log:\n%s", res.Status, res.Body, logs)
				}
				if got := upstream(res, "x-user"); got != "alice" {
					t.Errorf("x-user upstream = %q, want alice: the resumed request must carry the decision's headers", got)
				}
				if got := upstream(res, "authorization"); got != "" {
					t.Errorf("the token went upstream with the resumed request")
				}
			} else if res.Continued || res.Status != tt.status {
				t.Fatalf("continued %v, status %d; want %d; log:\n%s", res.Continued, res.Status, tt.status, logs)
			}
			if tt.upstream == "" {
				if calls.Load() != 1 {
					t.Fatalf("%d refresh calls, want 1", calls.Load())
				}
				if q, _ := query.Load().(string); q != "POST /refresh?provider=corp&kid=rotated accept="+refreshapi.ContentType {
					t.Errorf("refresh call %q", q)
				}
			}
			if elapsed > 3*time.Second {
				t.Errorf("the request waited %v; timeout_ms is 300", elapsed)
			}
			// Within min_interval_seconds the same kid costs no second call
			// and is answered at once, whatever the first call brought.
			again := th.Do(t, testhost.Request{Path: "/v1", Headers: [][2]string{{"authorization", newToken}}})
			if again.Continued != (tt.status == 0) {
				t.Fatalf("the second request: continued %v, status %d", again.Continued, again.Status)
			}
			if tt.upstream == "" && calls.Load() != 1 {
				t.Fatalf("%d refresh calls after the second request, want 1", calls.Load())
			}
			// A known kid is never paused.
			if res := th.Do(t, testhost.Request{Path: "/v1", Headers: [][2]string{{"authorization", "Bearer " + token(t, idp, nil)}}}); !res.Continued {
				t.Fatalf("a token with a known kid: %d", res.Status)
			}
		})
	}
}

// TestPluginForgetsAPausedRequestWhoseClientLeft: a request that goes away
// while it waits for a key refresh is skipped when the answer arrives, and
// the answer's key set is installed all the same.
func TestPluginForgetsAPausedRequestWhoseClientLeft(t *testing.T) {
	idp, oldSet, newSet := rotatedIssuer(t)
	release := make(chan struct{})
	rt := fetcherFunc(func(r *http.Request) (*http.Response, error) {
		<-release
		return answer(200, refreshapi.ContentType, newSet), nil
	})
	th := testhost.New(t, `{"refresh": {"cluster": "jwksfetch", "timeout_ms": 5000},
	  "providers": {"corp": {"issuer": "`+iss+`", "jwks": `+string(oldSet)+`}}}`,
		testhost.WithHostOption(host.WithUpstreamTransport("jwksfetch", "http://jwksfetch", rt)))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s, err := th.Plugin().NewStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.RequestHeaders([][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"},
		{"authorization", "Bearer " + token(t, idp, nil, issuer.WithKey("rotated"))}}, true)
	if err == nil {
		t.Fatal("the stream did not wait for the refresh call")
	}
	if err := s.Close(); err != nil { // the client left while the request was paused
		t.Fatal(err)
	}
	close(release)
	// The call's answer arrives after the stream is gone: the next request
	// delivers it, the plugin skips the gone request, and the new key is in
	// force.
	deadline := time.Now().Add(5 * time.Second)
	for {
		res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", "Bearer " + token(t, idp, nil, issuer.WithKey("rotated"))}}})
		if res.Continued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the key set of a call whose request left was not installed: %d\n%s", res.Status, strings.Join(res.Logs, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rotatedIssuer is an issuer whose key set gained a key, kid "rotated":
// the set before (oldSet, as the plugin is configured) and after (newSet, as
// the fetcher answers a refresh).
func rotatedIssuer(t *testing.T) (idp *issuer.Issuer, oldSet, newSet []byte) {
	t.Helper()
	idp = newIssuer(t)
	oldSet = idp.JWKS()
	rotated, err := issuer.NewKey(issuer.ES256, "rotated")
	if err != nil {
		t.Fatal(err)
	}
	idp.Keys = append(idp.Keys, rotated)
	return idp, oldSet, idp.JWKS()
}
