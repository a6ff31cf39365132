package wasmoci_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

// The digest is a function of the module, the format and the metadata only,
// so it is known before anything is pushed and every build of one commit
// gives the same one. The digests below are pinned on purpose: if a change to
// this package or to the Go toolchain's gzip alters them, every published
// digest would change too, and this example says so.
func ExampleBuild() {
	module := []byte("\x00asm\x01\x00\x00\x00") // the smallest valid module
	for _, f := range wasmoci.Formats() {
		a, err := wasmoci.Build(module, f,
			wasmoci.WithVersion("v1.0.0"),
			wasmoci.WithCreated(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(a.Format(), a.Digest())
	}
	// Output:
	// compat sha256:b22d7e4e433e863545d622244091aa6895ccc9bd2799c74020bee2b80970db9b
	// oci sha256:3b4435d364ce674944827e05b9b6d29de459243b3e2ed573eab5508056d75d08
	// wasm sha256:c2e96ea177792b60292c4786a491b1dac8e7b3c7458eb1b47c89b93ad9c6d5fd
}

func ExamplePush() {
	// A registry on loopback; in real use the reference names ghcr.io,
	// Docker Hub or a private registry, and credentials come from the
	// Docker config file.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := httptest.NewServer(handlers.NewApp(ctx, &configuration.Configuration{
		Storage: configuration.Storage{"inmemory": configuration.Parameters{}},
	}))
	defer reg.Close()
	ref := strings.TrimPrefix(reg.URL, "http://") + "/tokengate/tokengate:v1.0.0"

	module := []byte("\x00asm\x01\x00\x00\x00")
	a, err := wasmoci.Build(module, wasmoci.FormatCompat, wasmoci.WithVersion("v1.0.0"))
	if err != nil {
		fmt.Println(err)
		return
	}
	digest, err := wasmoci.Push(ctx, ref, a)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := wasmoci.Pull(ctx, ref, wasmoci.WithDigest(digest))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Format, p.ManifestDigest == digest, p.ModuleSHA256() == wasmoci.SHA256(module))
	// Output:
	// compat true true
}
