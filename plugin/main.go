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
	"strconv"

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
	hooks   hooks     // empty unless built with -tags tokengate_testhooks
	free    []*stream // streams that are done, for the next ones to reuse

	bundle bundleState // key bundles (bundle.go)
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
	p.startBundles()
	if err := proxywasm.SetTickPeriod(metrics.TickMillis); err != nil {
		// Without ticks the counts still reach the host every
		// metrics.FlushEvery decisions.
		proxywasm.LogWarn("no tick period (" + err.Error() + "): counters are flushed every " + strconv.Itoa(metrics.FlushEvery) + " decisions only")
	}
	proxywasm.LogInfo("tokengate " + version + " configured")
	return types.OnPluginStartStatusOK
}

// OnTick hands the counts held in the module to the host, and polls for key
// bundles when the configuration takes them.
func (p *plugin) OnTick() {
	if p.metrics != nil {
		p.metrics.Flush()
	}
	p.bundleTick() // polls for key bundles, when configured (bundle.go)
}

// OnPluginDone runs when the host deletes this configuration's context: its
// counts go to the host now, and those of streams still running at once.
func (p *plugin) OnPluginDone() bool {
	if p.metrics != nil {
		p.metrics.Close()
	}
	return true
}

func (p *plugin) NewHttpContext(id uint32) types.HttpContext {
	hc := newStream(p)
	hc.(identified).setID(id) // a request paused for a key refresh is resumed by its id (stream.go)
	return hc
}

// newStream returns a stream of p, reusing one that is done: a request then
// allocates no stream value. A reused stream is reset to its zero value
// first, so whatever per-request state a stream gains starts empty.
func (p *plugin) newStream() *stream {
	n := len(p.free)
	if n == 0 {
		return &stream{plugin: p}
	}
	s := p.free[n-1]
	p.free[n-1] = nil
	p.free = p.free[:n-1]
	*s = stream{plugin: p}
	return s
}

// OnHttpStreamDone returns the stream to its plugin for reuse. The host
// deletes the context right after, and never calls a deleted context again.
func (s *stream) OnHttpStreamDone() {
	s.plugin.free = append(s.plugin.free, s)
}
