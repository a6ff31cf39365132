package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunOnceWritesTheRenderedConfiguration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[{"kty":"EC","kid":"k1","crv":"P-256","x":"a","y":"b"}]}`))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cfg.json")
	out := filepath.Join(dir, "out.json")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`{"providers":{"corp":{"issuer":"x","jwks_uri":%q}}}`, srv.URL)), 0o600)
	if err := run([]string{"--config", cfg, "--once", "--out", out}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(got), `"kid":"k1"`) {
		t.Fatalf("out = %s, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestRunRefusesMissingFlags(t *testing.T) {
	if err := run([]string{"--once"}); err == nil {
		t.Fatal("want an error without --config")
	}
}
