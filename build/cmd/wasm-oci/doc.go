// Command wasm-oci publishes tokengate.wasm to an OCI registry in a layout
// Istio loads, fetches it back with the checks Istio makes, and prints the
// WasmPlugin that pins what was pushed.
//
//	go run ./build/cmd/wasm-oci push --file build/out/tokengate.wasm \
//		--version v1.0.0 --source-date-epoch "$(git log -1 --format=%ct)" ghcr.io/acme/tokengate:v1.0.0
//	go run ./build/cmd/wasm-oci pull -o tokengate.wasm --digest sha256:... ghcr.io/acme/tokengate:v1.0.0
//	go run ./build/cmd/wasm-oci inspect ghcr.io/acme/tokengate:v1.0.0
//	go run ./build/cmd/wasm-oci snippet --image ghcr.io/acme/tokengate:v1.0.0 --digest sha256:...
//
// Credentials come from the Docker config file (docker login). Run a
// subcommand with --help for its flags; docs/distribution.md walks through
// publishing.
package main
