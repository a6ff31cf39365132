package wasmoci_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

// TestTheRealPluginRoundTrips publishes the tokengate.wasm that `make wasm`
// built ($TOKENGATE_WASM) in every format and loads it back the way Istio
// does. Without TOKENGATE_WASM it is skipped, unless TOKENGATE_REQUIRE_E2E is
// set, as in `make test`.
func TestTheRealPluginRoundTrips(t *testing.T) {
	t.Parallel()
	path := os.Getenv("TOKENGATE_WASM")
	if path == "" {
		if os.Getenv("TOKENGATE_REQUIRE_E2E") != "" {
			t.Fatal("TOKENGATE_WASM is not set; run `make wasm` and point it at build/out/tokengate.wasm")
		}
		t.Skip("TOKENGATE_WASM is not set; `make test` sets it")
	}
	module, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reg := startRegistry(t, nil)
	for _, f := range wasmoci.Formats() {
		a, err := wasmoci.Build(module, f, buildOpts()...)
		if err != nil {
			t.Fatal(err)
		}
		ref := reg + "/tokengate/tokengate-" + string(f) + ":v1.2.3"
		digest, err := wasmoci.Push(context.Background(), ref, a)
		if err != nil {
			t.Fatal(err)
		}
		p, err := wasmoci.Pull(context.Background(), ref, wasmoci.WithDigest(digest))
		if err != nil || !bytes.Equal(p.Module, module) {
			t.Fatalf("%s: pull: %v", f, err)
		}
		if f == wasmoci.FormatWasm {
			continue
		}
		got, err := istioFetch(ref, strings.TrimPrefix(digest, "sha256:"))
		if err != nil || !bytes.Equal(got, module) {
			t.Fatalf("%s: Istio's fetcher: %v", f, err)
		}
	}
}
