// Package wasmoci publishes a WebAssembly module to an OCI registry and
// fetches it back, in the layouts Istio and the CNCF Wasm tooling load.
//
// Build lays a module out as an image in one of three formats: FormatCompat
// (the default; one tar+gzip layer holding plugin.wasm, which every Istio
// version loads), FormatOCI (the solo.io two-layer Wasm artifact) or
// FormatWasm (the CNCF Wasm OCI artifact, which Istio does not load). Every
// byte of the result is a function of the module and the metadata options,
// so one commit built twice gives one digest: pass the commit time with
// WithCreated, never the wall clock.
//
// Push uploads with go-containerregistry, the library Istio's agent pulls
// with, taking credentials from the Docker config file, and checks that the
// registry serves the manifest that was built. Pull fetches the way Istio's
// agent does and fails closed: the manifest must match the pinned digest,
// every blob its descriptor, and the result must be a core Wasm module.
//
//	a, err := wasmoci.Build(module, wasmoci.FormatCompat,
//		wasmoci.WithVersion("v1.0.0"), wasmoci.WithCreated(commitTime))
//	digest, err := wasmoci.Push(ctx, "ghcr.io/acme/tokengate:v1.0.0", a)
//	p, err := wasmoci.Pull(ctx, "ghcr.io/acme/tokengate:v1.0.0", wasmoci.WithDigest(digest))
//	// p.Module is the module; p.ModuleSHA256() is what Envoy's remote code pins.
package wasmoci
