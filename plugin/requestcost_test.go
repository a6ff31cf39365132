//go:build !wasip1

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/plugin/internal/metrics"
	"github.com/tokengate/tokengate/plugin/internal/testhooks"
	"github.com/tokengate/tokengate/testhost"
)

// statsPath is the request path the test-hooks module answers with its
// counters (testhooks "stats_path").
const statsPath = "/__stats"

// stats asks the test-hooks module for its allocation and host-call counters.
func stats(t *testing.T, th *testhost.Host) (mallocs, hostCalls uint64) {
	t.Helper()
	res := th.Do(t, testhost.Request{Path: statsPath})
	for _, l := range res.Logs {
		if i := strings.Index(l, testhooks.StatsPrefix); i >= 0 {
			if m, c, ok := testhooks.ParseStats(l[i:]); ok {
				return m, c
			}
		}
	}
	t.Fatalf("no stats line in %q", res.Logs)
	return 0, 0
}

// cost runs req n times and returns the allocations and host calls the
// module made for them. Two stats requests back to back measure what a
// stats request itself costs, which is taken off.
func cost(t *testing.T, th *testhost.Host, req testhost.Request, n int) (mallocs, hostCalls uint64) {
	t.Helper()
	m1, c1 := stats(t, th)
	m2, c2 := stats(t, th)
	for range n {
		if res := th.Do(t, req); !res.Continued {
			t.Fatalf("refused: %d %s", res.Status, res.Body)
		}
	}
	m3, c3 := stats(t, th)
	return (m3 - m2) - (m2 - m1), (c3 - c2) - (c2 - c1)
}

// TestRequestPathCost holds the request path to what it may cost inside the
// module, counted by the module itself (the test-hooks build): a request
// with a cached token, or on a public route, allocates nothing, and an
// accepted request with a cached token makes four host calls (read the
// headers, read the clock, remove the token, set the claim header, which
// replaces any forged one without a removal first). Counters are flushed once every
// metrics.FlushEvery decisions, one call per counter that moved, so n is a
// multiple of it and the flushes are counted apart.
func TestRequestPathCost(t *testing.T) {
	idp := newIssuer(t)
	valid := [][2]string{{"authorization", "Bearer " + token(t, idp, nil, issuer.WithTTL(time.Hour))}}
	const n = 2 * metrics.FlushEvery
	tests := []struct {
		name          string
		cache         string
		req           testhost.Request
		wantMallocs   bool // whether it may allocate: only a signature check does
		callsPerReq   uint64
		countersMoved uint64 // counters each flush adds to
	}{
		{"a cached token allocates nothing and makes four host calls", "1024",
			testhost.Request{Method: "GET", Path: "/v1/score", Headers: valid}, false, 4, 3},
		{"a public route allocates nothing and makes three host calls (headers, clock, remove a forged x-user)", "1024",
			testhost.Request{Method: "GET", Path: "/healthz"}, false, 3, 1},
		{"a token checked from scratch adds the host's verify_signature, a clock read and the histogram", "0",
			testhost.Request{Method: "GET", Path: "/v1/score", Headers: valid}, true, 7, 2},
		{"envoy_filter_state adds one proxy_set_property per value (provider, sub, scope) and nothing else", `1024, "envoy_filter_state": {}`,
			testhost.Request{Method: "GET", Path: "/v1/score", Headers: valid}, true, 4 + 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := strings.Replace(config(t, idp), `"realm"`, `"cache_size": `+tt.cache+`, "realm"`, 1)
			th := testhost.New(t, `{"test_hooks": {"stats_path": "`+statsPath+`"}, "config": `+cfg+`}`,
				testhost.WithWasm(testhost.TestHooksWasm(t)))
			for range metrics.FlushEvery { // fill the cache, grow the buffers the request path reuses
				th.Do(t, tt.req)
			}
			mallocs, calls := cost(t, th, tt.req, n)
			t.Logf("%d requests: %d allocations, %d host calls", n, mallocs, calls)
			if !tt.wantMallocs && mallocs != 0 {
				t.Errorf("%d requests allocated %d times, want 0", n, mallocs)
			}
			flushes := uint64(n / metrics.FlushEvery)
			if want := n*tt.callsPerReq + flushes*tt.countersMoved; calls != want {
				t.Errorf("%d requests made %d host calls, want %d (%d each and %d flushes of %d counters)",
					n, calls, want, tt.callsPerReq, flushes, tt.countersMoved)
			}
		})
	}
}
