//go:build !wasip1

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/testhost"
)

// TestOnlyTheTestBuildHasHooks proves that the hooks that make the plugin
// fail on purpose exist only in the module built with -tags
// tokengate_testhooks: the release module refuses a configuration that asks
// for them, and carries none of their code (the name section, which the
// release build keeps, would name it). The test build is the control: it
// accepts the same configuration and fails the hooked request.
func TestOnlyTheTestBuildHasHooks(t *testing.T) {
	idp := newIssuer(t)
	cfg := `{"test_hooks": {"panic_on_request": "/panic"}, "config": ` + config(t, idp) + `}`
	tests := []struct {
		name  string
		wasm  []byte
		hooks bool
	}{
		{"the release module refuses test_hooks and has no hook code", testhost.Wasm(t), false},
		{"the test module obeys test_hooks", testhost.TestHooksWasm(t), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, code := range []string{"plugin/internal/testhooks", "hookedStream"} {
				if got := bytes.Contains(tt.wasm, []byte(code)); got != tt.hooks {
					t.Errorf("the module names %s: %v, want %v", code, got, tt.hooks)
				}
			}
			if !tt.hooks {
				logs := strings.Join(testhost.Refused(t, cfg, testhost.WithWasm(tt.wasm)), "\n")
				if !strings.Contains(logs, "test_hooks: unknown field") {
					t.Fatalf("the refusal does not name test_hooks: %q", logs)
				}
				return
			}
			th := testhost.New(t, cfg, testhost.WithWasm(tt.wasm))
			if res := th.Do(t, testhost.Request{Path: "/panic"}); res.Continued || res.Status != 500 {
				t.Fatalf("the hooked request: continued=%v status %d, want a 500", res.Continued, res.Status)
			}
			if res := th.Do(t, testhost.Request{Path: "/healthz"}); !res.Continued {
				t.Fatalf("a request the hooks do not name was refused: %d %s", res.Status, res.Body)
			}
		})
	}
}
