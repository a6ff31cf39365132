package jwksfetch_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/tokengate/tokengate/internal/keybundle"
	"github.com/tokengate/tokengate/jwksfetch"
)

// A fetcher that signs key bundles serves them on its admin listener (GET
// /bundle); a plugin that pins the public key takes its key sets from them.
// Here the bundle is read back the way the plugin reads it.
func ExampleFetcher_Bundle() {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"2026-11","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	}))
	defer idp.Close()
	cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example.com","jwks_uri":%q}}}`, idp.URL)

	dir, _ := os.MkdirTemp("", "bundle-key")
	defer os.RemoveAll(dir)
	keyFile := filepath.Join(dir, "bundle.key")
	pinned, err := jwksfetch.GenerateBundleKey(keyFile) // `jwksfetch keygen --out bundle.key`
	if err != nil {
		fmt.Println(err)
		return
	}
	key, err := jwksfetch.LoadBundleKey(keyFile) // `jwksfetch --bundle-key bundle.key`
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := jwksfetch.New([]byte(cfg), jwksfetch.WithHTTPClient(idp.Client()), jwksfetch.WithBundleKey(key))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _, err = f.Bundle()
	fmt.Println("before the first fetch:", err)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Run(ctx)
	for !f.Ready() {
		time.Sleep(time.Millisecond)
	}
	data, version, err := f.Bundle()
	if err != nil {
		fmt.Println(err)
		return
	}

	// The plugin's side: "bundle": {"public_keys": ["<pinned>"], ...}.
	pub, _ := keybundle.ParsePublicKey(pinned)
	v, _ := keybundle.NewVerifier(time.Hour, pub)
	b, err := v.Verify(data, 0, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("version is the issue time in ms:", b.Version == version && version >= uint64(b.IssuedAt.UnixMilli()))
	fmt.Println(b.Provider("corp").Issuer, b.Provider("corp").Keys.Keys[0].Kid)
	_, id := jwksfetch.BundlePublicKey(key)
	fmt.Println("signed by the pinned key:", b.KeyID == id && pub.Equal(keybundle.NewPublicKey(key.Public().(ed25519.PublicKey))))
	// Output:
	// before the first fetch: jwksfetch: no key bundle yet: the first fetch of every provider has not ended
	// version is the issue time in ms: true
	// https://idp.example.com 2026-11
	// signed by the pinned key: true
}
