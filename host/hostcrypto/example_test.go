package hostcrypto_test

import (
	"context"
	"os"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
)

// A host that offers the plugin native signature verification, as Envoy does.
func Example() {
	wasm, err := os.ReadFile("build/out/tokengate.wasm")
	if err != nil {
		return
	}
	ctx := context.Background()
	p, err := host.Load(ctx, wasm, host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature))
	if err != nil {
		return
	}
	defer p.Close(ctx)
}
