// Package istio holds tokengate's Istio configuration: the WasmPlugin
// resource that loads the plugin from an OCI registry (wasmplugin.yaml, with
// placeholders), and the renderer that fills in a pushed image and its
// manifest digest. `wasm-oci snippet` and `make oci` print what Render
// returns, and a test keeps the checked-in file equal to the template's
// output, so what users read is what the tool prints. With Bundle set, the
// configuration gains the plugin's "bundle" section, which makes it poll
// signed key bundles from the jwksfetch Service (under the cluster name
// Istio gives it) instead of carrying keys.
//
//	yaml, err := istio.Render(istio.WasmPlugin{
//		Image:  "ghcr.io/acme/tokengate:v1.0.0",
//		SHA256: "sha256:<manifest digest from wasm-oci push>",
//	})
package istio
