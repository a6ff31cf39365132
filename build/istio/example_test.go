package istio_test

import (
	"fmt"
	"strings"

	"github.com/tokengate/tokengate/build/istio"
)

func ExampleRender() {
	yaml, err := istio.Render(istio.WasmPlugin{
		Image:  "ghcr.io/acme/tokengate:v1.0.0",
		SHA256: "sha256:" + strings.Repeat("ab", 32), // the digest wasm-oci push printed
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(string(yaml), "\n") {
		if strings.HasPrefix(line, "  url:") || strings.HasPrefix(line, "  sha256:") || strings.HasPrefix(line, "  phase:") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// url: "oci://ghcr.io/acme/tokengate:v1.0.0"
	// sha256: "abababababababababababababababababababababababababababababababab"
	// phase: AUTHN
}

// A WasmPlugin whose plugin polls signed key bundles from the jwksfetch
// Service: the configuration carries no keys and is never re-applied.
func ExampleBundle() {
	b := istio.Bundle{Namespace: "tokengate", PublicKeys: []string{"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}} // `jwksfetch keygen`
	yaml, err := istio.Render(istio.WasmPlugin{
		Image:        "ghcr.io/acme/tokengate:v1.0.0",
		SHA256:       "sha256:" + strings.Repeat("ab", 32),
		PluginConfig: []byte(`{"providers":{"corp":{"issuer":"https://idp.example.com/realms/ml"}}}`),
		Bundle:       &b,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Cluster())
	fmt.Println(strings.Contains(string(yaml), `"cluster": "outbound|9902||jwksfetch.tokengate.svc.cluster.local"`))
	// Output:
	// outbound|9902||jwksfetch.tokengate.svc.cluster.local
	// true
}
