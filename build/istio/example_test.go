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
