package wasmoci_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	"github.com/distribution/distribution/v3/registry/handlers"
	"golang.org/x/crypto/bcrypt"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

// TestCredentialsComeFromTheDockerConfig runs a registry that requires basic
// authentication and pushes with the default keychain, which reads
// $DOCKER_CONFIG/config.json as `docker login` writes it. It sets
// DOCKER_CONFIG, so it does not run in parallel.
func TestCredentialsComeFromTheDockerConfig(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("ci:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory":    configuration.Parameters{},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		},
		Auth: configuration.Auth{"htpasswd": configuration.Parameters{"realm": "tokengate-test", "path": htpasswd}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(handlers.NewApp(ctx, cfg))
	t.Cleanup(func() { srv.Close(); cancel() })
	host := strings.TrimPrefix(srv.URL, "http://")
	ref := host + "/tokengate/tokengate:v1"

	a, err := wasmoci.Build(testModule(7, 1000), wasmoci.FormatCompat)
	if err != nil {
		t.Fatal(err)
	}
	dockerConfig := func(t *testing.T, user, pass string) {
		d := t.TempDir()
		if user != "" {
			auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
			doc := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
			if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("DOCKER_CONFIG", d)
	}

	t.Run("without credentials the push is refused with a hint to log in", func(t *testing.T) {
		dockerConfig(t, "", "")
		_, err := wasmoci.Push(context.Background(), ref, a)
		if err == nil || !strings.Contains(err.Error(), "docker login "+host) {
			t.Fatalf("error = %v, want one that says to run docker login", err)
		}
	})
	t.Run("a wrong password is refused", func(t *testing.T) {
		dockerConfig(t, "ci", "wrong")
		if _, err := wasmoci.Push(context.Background(), ref, a); err == nil {
			t.Fatal("push with a wrong password succeeded")
		}
	})
	t.Run("the credentials in the Docker config push and pull", func(t *testing.T) {
		dockerConfig(t, "ci", "s3cret")
		digest, err := wasmoci.Push(context.Background(), ref, a)
		if err != nil {
			t.Fatal(err)
		}
		p, err := wasmoci.Pull(context.Background(), ref, wasmoci.WithDigest(digest))
		if err != nil || !bytes.Equal(p.Module, testModule(7, 1000)) {
			t.Fatalf("pull: %v", err)
		}
	})
}
