package zitadel

import (
	"fmt"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/fetchtest"
	"github.com/tokengate/tokengate/jwksfetch"
)

// These tests run against a real OpenID provider (zitadel/oidc's OP) on
// loopback, with the real clock, and verify tokens it issues with the
// client-credentials grant against the key set the fetcher publishes.

func TestRealProviderRotationOnDemand(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	rec := fetchtest.NewRecorder()
	// The refresh window is the default 5 min: only RequestRefresh can make
	// a rotation visible within this test.
	cfg := fmt.Sprintf(`{"realm":"models","providers":{"corp":{"issuer":%q,"audiences":["api://scoring"]}}}`, o.Issuer)
	f, err := jwksfetch.New([]byte(cfg), jwksfetch.WithSink(rec), jwksfetch.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)

	oldToken := o.token(t)
	t.Run("discovery and the first fetch let the provider's tokens verify", func(t *testing.T) {
		got := rec.WaitFor(t, 10*time.Second, "k1 is in force", func(c []byte) bool { return len(fetchtest.KidsIn(t, c, "corp")) == 1 })
		if err := verify(got, "corp", oldToken); err != nil {
			t.Fatalf("token from the provider does not verify: %v", err)
		}
	})
	t.Run("a rotated key is picked up on demand within seconds", func(t *testing.T) {
		o.Storage.rotate(newOPKey(t, "k2"))
		rotated := time.Now()
		tok := o.token(t)
		if kidOf(t, tok) != "k2" {
			t.Fatalf("the provider signed with %q", kidOf(t, tok))
		}
		if err := verify(rec.Latest(), "corp", tok); err == nil {
			t.Fatal("a token with the new kid verified before any refresh")
		}
		// What the proxy does when it sees an unknown kid:
		if out := f.RequestRefresh("corp", "k2"); out != jwksfetch.RefreshScheduled {
			t.Fatalf("RequestRefresh = %v", out)
		}
		got := rec.WaitFor(t, 5*time.Second, "the new token verifies", func(c []byte) bool { return verify(c, "corp", tok) == nil })
		t.Logf("rotation latency (key published at the provider -> configuration with the new key published, on-demand path): %v", time.Since(rotated))
		if err := verify(got, "corp", oldToken); err != nil {
			t.Fatalf("the old key, still published, stopped verifying: %v", err)
		}
	})
	t.Run("a flood of unknown kids does not reach the provider", func(t *testing.T) {
		before := f.Status()[0].Fetches
		for i := 0; i < 1000; i++ {
			if out := f.RequestRefresh("corp", fmt.Sprintf("forged-%d", i)); out != jwksfetch.RefreshRateLimited {
				t.Fatalf("request %d: %v", i, out)
			}
		}
		time.Sleep(100 * time.Millisecond)
		if after := f.Status()[0].Fetches; after != before {
			t.Fatalf("fetches %d -> %d", before, after)
		}
	})
}

func TestRealProviderRotationByRefreshWindow(t *testing.T) {
	t.Parallel()
	o := startOP(t)
	rec := fetchtest.NewRecorder()
	cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":%q,"fetch":{"refresh_seconds":0.5,"refresh_min_seconds":0.2,"refresh_max_seconds":1,"max_stale_seconds":2}}}}`, o.Issuer)
	f, err := jwksfetch.New([]byte(cfg), jwksfetch.WithSink(rec), jwksfetch.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	fetchtest.Run(t, f)
	rec.WaitFor(t, 10*time.Second, "k1 is in force", func(c []byte) bool { return len(fetchtest.KidsIn(t, c, "corp")) == 1 })
	oldToken := o.token(t)

	var newToken string
	t.Run("a rotated key is picked up within the refresh window", func(t *testing.T) {
		o.Storage.rotate(newOPKey(t, "k2"))
		rotated := time.Now()
		newToken = o.token(t)
		rec.WaitFor(t, 5*time.Second, "the new token verifies", func(c []byte) bool { return verify(c, "corp", newToken) == nil })
		latency := time.Since(rotated)
		t.Logf("rotation latency (refresh window 0.5 s, no on-demand request): %v", latency)
		if latency > 2*time.Second {
			t.Fatalf("took %v with a 0.5 s refresh window", latency)
		}
	})
	t.Run("a key removed at the provider stops verifying", func(t *testing.T) {
		o.Storage.unpublish("k1")
		got := rec.WaitFor(t, 5*time.Second, "k1 is gone", func(c []byte) bool { return len(fetchtest.KidsIn(t, c, "corp")) == 1 })
		if err := verify(got, "corp", oldToken); err == nil {
			t.Fatal("a token signed with the removed key still verifies")
		}
		if err := verify(got, "corp", newToken); err != nil {
			t.Fatalf("the current key stopped verifying: %v", err)
		}
	})
	t.Run("while the provider is down the last good keys stay, until max_stale", func(t *testing.T) {
		o.srv.Close()
		down := time.Now()
		for f.Status()[0].ConsecutiveFailures < 2 {
			if time.Since(down) > 5*time.Second {
				t.Fatal("no failed fetch after the provider went down")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Failures have happened, beyond the 0.5 s refresh window: the
		// keys must still be in force.
		if cfg, _ := f.Config(); verify(cfg, "corp", newToken) != nil || !f.Ready() {
			t.Fatalf("keys dropped %v after the provider went down, before max_stale", time.Since(down))
		}
		rec.WaitFor(t, 5*time.Second, "the key set is withdrawn", func(c []byte) bool { return fetchtest.KidsIn(t, c, "corp") == nil })
		t.Logf("key set withdrawn %v after the provider went down (max_stale 2 s after the last success)", time.Since(down))
		if f.Ready() {
			t.Fatal("Ready after withdrawal")
		}
	})
}
