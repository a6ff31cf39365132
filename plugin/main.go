//go:build wasip1

// Command plugin is tokengate's Proxy-Wasm HTTP filter. It is built with the
// standard Go toolchain as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o tokengate.wasm ./plugin
//
// This package only wires entry points: the ABI binding is in
// internal/proxywasm, every decision is made by internal/gate, metrics are
// kept by internal/metrics and the choice of signature verifier is made by
// internal/hostverify; those are plain Go and tested natively as well as
// through the real module. stream.go is the request path.
package main

import (
	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/plugin/internal/gate"
	"github.com/tokengate/tokengate/plugin/internal/hostverify"
	"github.com/tokengate/tokengate/plugin/internal/metrics"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// version is set at build time from git (-ldflags -X main.version=...).
var version = "dev"

func main() {}

func init() {
	// Runs inside _initialize: hostverify.New makes no host call.
	proxywasm.SetVMContext(&vm{verifiers: hostverify.New(proxywasm.Host{})})
}

// vm is the plugin's VM. What it holds lives as long as the VM, across
// configurations: whether the host's verify_signature passed its self-test,
// and the keys already encoded for it.
type vm struct {
	types.DefaultVMContext
	verifiers *hostverify.Choice
}

func (v *vm) NewPluginContext(uint32) types.PluginContext { return &plugin{vm: v} }

// plugin is one configuration of the filter (one root context). Envoy creates
// a new one for every configuration push, on the same VM.
type plugin struct {
	types.DefaultPluginContext
	vm      *vm
	gate    *gate.Gate
	metrics *metrics.Metrics
	hooks   hooks // empty unless built with -tags tokengate_testhooks
}

func (p *plugin) OnPluginStart(size int) types.OnPluginStartStatus {
	cfg, err := proxywasm.GetPluginConfiguration(size)
	if err != nil {
		proxywasm.LogError("cannot read the plugin configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	cfg, p.hooks = testHooks(cfg)
	var opts []gate.Option
	if v := p.vm.verifiers.Verifier(); v != nil {
		opts = append(opts, gate.WithVerifier(v))
	}
	g, warnings, err := gate.Compile(cfg, opts...)
	for _, w := range warnings {
		proxywasm.LogWarn(w)
	}
	if err != nil {
		proxywasm.LogError("configuration refused: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	p.gate = g
	p.metrics = metrics.Define(proxywasm.Host{}, g.Providers(), gate.Codes())
	proxywasm.LogInfo("tokengate " + version + " configured")
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return newStream(p) }
