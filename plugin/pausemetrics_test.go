//go:build !wasip1

package main

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/internal/abi"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/internal/refreshapi"
	"github.com/tokengate/tokengate/plugin/internal/metrics"
	"github.com/tokengate/tokengate/testhost"
)

// TestPluginCountsPausedRequests drives the real module through each way a
// request paused for a key refresh can end, and reads the host's metrics:
// the pause is counted, so is its outcome, and its wait is recorded in the
// pause_ms histogram (but for a request whose client left).
func TestPluginCountsPausedRequests(t *testing.T) {
	idp, oldSet, newSet := rotatedIssuer(t)
	newToken := "Bearer " + token(t, idp, nil, issuer.WithKey("rotated"))
	const timeoutMillis = 300
	cfg := `{"refresh": {"cluster": "jwksfetch", "timeout_ms": 300},
	  "providers": {"corp": {"issuer": "` + iss + `", "audiences": ["` + aud + `"], "jwks": ` + string(oldSet) + `}}}`

	tests := []struct {
		name     string
		fetcher  func(r *http.Request) (*http.Response, error)
		leave    bool   // the client leaves while the request is paused
		status   int    // 0: continued
		outcome  string // the tokengate.key_refresh counter that moves with paused
		minMilli int64  // the least wait pause_ms must have recorded
	}{
		{name: "let through with the fetcher's set", outcome: "allowed",
			fetcher: func(*http.Request) (*http.Response, error) {
				time.Sleep(30 * time.Millisecond)
				return answer(200, refreshapi.ContentType, newSet), nil
			}, minMilli: 25},
		{name: "refused: the fetcher's set lacks the kid", outcome: "denied", status: 401,
			fetcher: func(*http.Request) (*http.Response, error) { return answer(200, refreshapi.ContentType, oldSet), nil }},
		{name: "refused: the answer is not a key set", outcome: "denied", status: 401,
			fetcher: func(*http.Request) (*http.Response, error) {
				return answer(503, "text/plain", []byte("no key set")), nil
			}},
		{name: "refused: no answer within timeout_ms", outcome: "timed_out", status: 401,
			fetcher: func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			}, minMilli: timeoutMillis},
		{name: "the client left", outcome: "abandoned", leave: true,
			fetcher: func(*http.Request) (*http.Response, error) {
				time.Sleep(400 * time.Millisecond)
				return answer(200, refreshapi.ContentType, newSet), nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var offset atomic.Int64 // moved by the test to make the metrics tick due
			clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
			rt := fetcherFunc(func(r *http.Request) (*http.Response, error) { return tt.fetcher(r) })
			th := testhost.New(t, cfg, testhost.WithClock(clock),
				testhost.WithHostOption(host.WithUpstreamTransport("jwksfetch", "http://jwksfetch", rt)))
			headers := [][2]string{{":method", "GET"}, {":path", "/"}, {":authority", "a"}, {"authorization", newToken}}
			if tt.leave {
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				s, err := th.Plugin().NewStream(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.RequestHeaders(headers, true); err == nil {
					t.Fatal("the stream did not wait for the refresh call")
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(500 * time.Millisecond)           // the answer arrives after the client left
				th.Do(t, testhost.Request{Path: "/healthz"}) // and is delivered with the next request
			} else {
				res := th.Do(t, testhost.Request{Headers: [][2]string{{"authorization", newToken}}})
				if tt.status == 0 && !res.Continued || tt.status != 0 && (res.Continued || res.Status != tt.status) {
					t.Fatalf("continued %v, status %d; want %d\n%s", res.Continued, res.Status, tt.status, strings.Join(res.Logs, "\n"))
				}
			}
			offset.Add(int64(metrics.TickMillis * time.Millisecond))
			th.Tick(t)

			got := map[string]host.Metric{}
			for _, m := range th.Plugin().MetricList() {
				if strings.HasPrefix(m.Name, "tokengate.key_refresh.") {
					got[strings.TrimPrefix(m.Name, "tokengate.key_refresh.")] = m
				}
			}
			want := map[string]int64{"paused": 1, "allowed": 0, "denied": 0, "timed_out": 0, "abandoned": 0}
			want[tt.outcome] = 1
			for name, n := range want {
				if m, ok := got[name]; !ok || m.Type != abi.MetricCounter || m.Value != n {
					t.Errorf("tokengate.key_refresh.%s = %+v, want a counter at %d", name, m, n)
				}
			}
			h, ok := got["pause_ms"]
			switch {
			case !ok || h.Type != abi.MetricHistogram:
				t.Fatalf("no pause_ms histogram among %v", got)
			case tt.leave && h.Count != 0:
				t.Errorf("pause_ms recorded %d samples for a request whose client left", h.Count)
			case !tt.leave && (h.Count != 1 || h.Value < tt.minMilli || h.Value > 5000):
				t.Errorf("pause_ms: %d samples, sum %d ms; want 1 sample of at least %d ms", h.Count, h.Value, tt.minMilli)
			}
			t.Logf("pause_ms: %d sample(s), %d ms", h.Count, h.Value)
		})
	}
}
