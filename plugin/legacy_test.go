//go:build !wasip1

package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

// envoys are the hosts the plugin's behaviour tests run on: the oldest
// supported Envoy (1.33–1.38: fewer WASI functions, poll_oneoff answers
// ENOSYS, shorter restricted-callback lists) and the newest.
var envoys = []struct {
	name string
	opts []testhost.Option
}{
	{name: "on Envoy 1.33-1.38", opts: []testhost.Option{testhost.WithHostOption(host.WithLegacyWASI())}},
	{name: "on Envoy 1.39 and later"},
}

// forEachEnvoy runs test once per host in envoys.
func forEachEnvoy(t *testing.T, test func(t *testing.T, opts ...testhost.Option)) {
	for _, e := range envoys {
		t.Run(e.name, func(t *testing.T) { test(t, e.opts...) })
	}
}

// gcTrace is the start of a line of the Go runtime's GODEBUG=gctrace=1
// output, which reaches the log in pieces (one per fd_write), so it is
// matched in the request's joined log.
var gcTrace = regexp.MustCompile(`gc \d+ @`)

// TestPluginNeverWaitsInPollOneoff drives many requests through one VM of
// the oldest Envoy, whose poll_oneoff answers ENOSYS (the Go runtime then
// aborts and the VM traps), with GOGC=1 so that the runtime collects
// garbage again and again, inside callbacks and inside
// proxy_on_memory_allocate. Every request must get its answer, and the
// runtime's own trace must show the collections happened: the module never
// sleeps, waits on a timer or idles in poll_oneoff, whatever the GC does.
func TestPluginNeverWaitsInPollOneoff(t *testing.T) {
	idp := newIssuer(t)
	th := testhost.New(t, config(t, idp),
		testhost.WithHostOption(host.WithLegacyWASI()),
		testhost.WithHostOption(host.WithPoolSize(1)),
		testhost.WithHostOption(host.WithEnv(map[string]string{"GOGC": "1", "GODEBUG": "gctrace=1"})))
	const requests = 600
	var tokens []string
	for i := range 40 {
		kid := "RS256-1"
		if i%2 == 0 {
			kid = "ES256-1"
		}
		tokens = append(tokens, token(t, idp, issuer.Claims{"sub": fmt.Sprintf("user-%d", i)}, issuer.WithKey(kid)))
	}
	gcs := 0
	for i := range requests {
		req := testhost.Request{Method: "GET", Path: "/v1/score"}
		want := 0 // continued
		switch i % 4 {
		case 0, 1:
			req.Headers = [][2]string{{"authorization", "Bearer " + tokens[i%len(tokens)]}}
		case 2: // a forged signature: never cached, verified every time
			tok := tokens[i%len(tokens)]
			req.Headers = [][2]string{{"authorization", "Bearer " + tok[:len(tok)-8] + "AAAAAAAA"}}
			want = 401
		case 3: // a large, malformed header: allocation without verification
			req.Headers = [][2]string{{"authorization", "Bearer " + strings.Repeat("x", 64<<10+i)}}
			want = 401
		}
		res := th.Do(t, req) // a trap fails the test here
		if (want == 0) != res.Continued || (want != 0 && res.Status != want) {
			t.Fatalf("request %d: continued=%v status=%d, want %d; logs %q", i, res.Continued, res.Status, want, res.Logs)
		}
		gcs += len(gcTrace.FindAllString(strings.Join(res.Logs, ""), -1))
	}
	t.Logf("%d requests, %d garbage collections traced", requests, gcs)
	if gcs < 10 {
		t.Fatalf("only %d garbage collections in %d requests: the test no longer exercises the GC", gcs, requests)
	}
}
