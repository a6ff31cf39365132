package testhost_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/testhost"
)

const guestPkg = "github.com/tokengate/tokengate/host/testdata/guest"

func TestHarnessReportsWhatThePluginDid(t *testing.T) {
	fixed := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	th := testhost.New(t, "ok", testhost.WithWasm(testhost.Build(t, guestPkg)), testhost.WithClock(func() time.Time { return fixed }))
	tests := []struct {
		name, path string
		continued  bool
		status     int
	}{
		{"a passing request continues upstream with the plugin's headers", "/pass", true, 0},
		{"a denied request returns the local response", "/deny", false, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := th.Do(t, testhost.Request{Path: tc.path})
			if res.Continued != tc.continued || res.Status != tc.status {
				t.Fatalf("got continued=%v status=%d, want %v %d", res.Continued, res.Status, tc.continued, tc.status)
			}
			if tc.continued && res.Headers[len(res.Headers)-1] != [2]string{"x-seen", tc.path} {
				t.Errorf("forwarded headers %q lack the plugin's x-seen", res.Headers)
			}
		})
	}
}

func TestRefusedReturnsThePluginsLog(t *testing.T) {
	logs := testhost.Refused(t, "reject", testhost.WithWasm(testhost.Build(t, guestPkg)))
	if len(logs) == 0 || !strings.Contains(strings.Join(logs, "\n"), "configuration rejected: reject") {
		t.Errorf("log = %q", logs)
	}
}

func TestThePluginBuildsForWasip1(t *testing.T) {
	if b := testhost.Wasm(t); len(b) < 8 || string(b[:4]) != "\x00asm" {
		t.Fatalf("plugin is not a wasm module (%d bytes)", len(b))
	}
}

func TestDoOffersTheBodyAndReportsWhatGoesUpstream(t *testing.T) {
	th := testhost.New(t, "ok", testhost.WithWasm(testhost.Build(t, guestPkg)))
	res := th.Do(t, testhost.Request{Method: "POST", Path: "/upload", Body: []byte("data")})
	if !res.Continued || string(res.ForwardedBody) != "data" {
		t.Fatalf("continued=%v body=%q", res.Continued, res.ForwardedBody)
	}
}

func TestTickDeliversNothingWhenThePluginSetNoPeriod(t *testing.T) {
	th := testhost.New(t, "ok", testhost.WithWasm(testhost.Build(t, guestPkg)))
	if n, _ := th.Tick(t); n != 0 {
		t.Fatalf("Tick delivered %d ticks to a plugin without a tick period", n)
	}
}
