package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/keybundle"
)

// TestKeyCommands: keygen writes an owner-only key and prints the public key
// the plugin pins; pubkey prints the same from the file; neither replaces a
// key or accepts a file others can read.
func TestKeyCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "bundle.key")
	var out bytes.Buffer
	if err := keyCommand("keygen", []string{"--out", key}, &out); err != nil {
		t.Fatal(err)
	}
	pinned := strings.TrimSpace(out.String())
	if _, err := keybundle.ParsePublicKey(pinned); err != nil || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("keygen printed %q: %v", out.String(), err)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the key file: %v %v", st.Mode(), err)
	}
	raw, _ := os.ReadFile(key)
	if strings.Contains(out.String(), string(raw[30:60])) {
		t.Fatal("keygen printed the private key")
	}
	out.Reset()
	if err := keyCommand("pubkey", []string{"--bundle-key", key}, &out); err != nil || strings.TrimSpace(out.String()) != pinned {
		t.Fatalf("pubkey printed %q (%v), keygen %q", out.String(), err, pinned)
	}
	wide := filepath.Join(dir, "wide.key")
	if err := os.WriteFile(wide, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(wide, 0o644)
	tests := []struct {
		name, cmd string
		args      []string
		want      string
	}{
		{name: "keygen never replaces a key", cmd: "keygen", args: []string{"--out", key}, want: "never replaced"},
		{name: "keygen needs --out", cmd: "keygen", want: "usage"},
		{name: "pubkey refuses a key others can read", cmd: "pubkey", args: []string{"--bundle-key", wide}, want: "chmod 600"},
		{name: "pubkey needs --bundle-key", cmd: "pubkey", args: []string{"extra"}, want: "usage"},
	}
	for _, tt := range tests {
		if err := keyCommand(tt.cmd, tt.args, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to say %q", tt.name, err, tt.want)
		}
	}
}

func TestRunRefusesBadBundleFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, _ := keyServer(t)
	cfg := writeFile(t, dir, "cfg.json", fmt.Sprintf(`{"providers":{"corp":{"issuer":"x","jwks_uri":%q}}}`, srv.URL))
	key := filepath.Join(dir, "bundle.key")
	if err := keyCommand("keygen", []string{"--out", key}, io.Discard); err != nil {
		t.Fatal(err)
	}
	wide := writeFile(t, dir, "wide.key", "x")
	os.Chmod(wide, 0o640)
	tests := []refusal{
		{name: "once with a bundle key", args: []string{"--config", cfg, "--once", "--out", "o", "--bundle-key", key}, want: "drop one of them"},
		{name: "bundles without the admin listener", args: []string{"--config", cfg, "--bundle-key", key, "--admin-listen", ""}, want: "--admin-listen"},
		{name: "a zero reissue interval", args: []string{"--config", cfg, "--bundle-key", key, "--bundle-reissue", "0s"}, want: "--bundle-reissue"},
		{name: "a key file others can read", args: []string{"--config", cfg, "--bundle-key", wide, "--admin-listen", "127.0.0.1:0"}, want: "mode 0640"},
		{name: "no sink names --bundle-key", args: []string{"--config", cfg}, want: "--bundle-key FILE"},
	}
	refused(t, tests)
}

// TestRunServesKeyBundles: with --bundle-key as its only delivery, the
// daemon serves the signed bundle on the admin listener, and /refresh
// answers with it.
func TestRunServesKeyBundles(t *testing.T) {
	t.Parallel()
	srv, _ := keyServer(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "cfg.json", fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example","jwks_uri":%q}}}`, srv.URL))
	key := filepath.Join(dir, "bundle.key")
	var out bytes.Buffer
	if err := keyCommand("keygen", []string{"--out", key}, &out); err != nil {
		t.Fatal(err)
	}
	pub, err := keybundle.ParsePublicKey(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := keybundle.NewVerifier(time.Minute, pub)

	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--config", cfg, "--bundle-key", key, "--admin-listen", "127.0.0.1:0"}, quiet,
			func(admin, _ string) { addrs <- admin })
	}()
	admin := "http://" + <-addrs
	fetch := func(method, path string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, admin+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	var bundle []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		resp, body := fetch("GET", keybundle.Path)
		if resp.StatusCode == 200 {
			bundle = body
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no bundle: %d %s", resp.StatusCode, body)
		}
	}
	b, err := v.Verify(bundle, 0, time.Now())
	if err != nil || b.Provider("corp") == nil || !b.Provider("corp").Keys.HasKid("k1") {
		t.Fatalf("the daemon's bundle: %+v, %v", b, err)
	}
	resp, body := fetch("POST", "/refresh?provider=corp&kid=new")
	if resp.Header.Get("Content-Type") != keybundle.MediaType {
		t.Fatalf("/refresh answered %s: %s", resp.Header.Get("Content-Type"), body)
	}
	if _, err := v.Verify(body, 0, time.Now()); err != nil {
		t.Fatalf("/refresh's bundle: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
