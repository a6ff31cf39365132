//go:build wasip1

// Command plugin is tokengate's Proxy-Wasm HTTP filter. It is built with the
// standard Go toolchain as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o tokengate.wasm ./plugin
//
// This file only wires entry points: the ABI binding is in
// internal/proxywasm and every decision is made by internal/gate, which is
// plain Go and tested natively as well as through the real module.
package main

import (
	"strconv"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/internal/abi"
	"github.com/tokengate/tokengate/plugin/internal/gate"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// version is set at build time from git (-ldflags -X main.version=...).
var version = "dev"

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

// plugin is one configuration of the filter (one root context). Envoy creates
// a new one for every configuration push, on the same VM.
type plugin struct {
	types.DefaultPluginContext
	gate    *gate.Gate
	metrics metrics
	hooks   hooks
}

func (p *plugin) OnPluginStart(size int) types.OnPluginStartStatus {
	cfg, err := proxywasm.GetPluginConfiguration(size)
	if err != nil {
		proxywasm.LogError("cannot read the plugin configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	cfg, p.hooks = testHooks(cfg)
	var opts []gate.Option
	if v := hostVerifier(); v != nil {
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
	p.metrics.define(g)
	proxywasm.LogInfo("tokengate " + version + " configured")
	return types.OnPluginStartStatusOK
}

func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &stream{plugin: p} }

// stream is one HTTP request.
type stream struct {
	types.DefaultHttpContext
	plugin *plugin
}

func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	headers, err := proxywasm.GetHTTPRequestHeaders()
	if err != nil {
		// Fail closed: a request whose headers cannot be read is not let through.
		panic("reading request headers: " + err.Error())
	}
	if s.plugin.hooks.enabled() {
		for _, h := range headers {
			if h[0] == ":path" {
				s.plugin.hooks.onRequest(h[1])
			}
		}
	}
	start := proxywasm.GetCurrentTime()
	d := s.plugin.gate.Decide(&gate.Request{Headers: headers}, start)
	s.plugin.metrics.count(&d, start)
	if d.DryRun {
		proxywasm.LogInfo("dry run: would deny with " + strconv.Itoa(d.Status) + ": " + d.Reason + detail(&d))
	}
	if !d.Allow {
		proxywasm.LogInfo("denied with " + strconv.Itoa(d.Status) + ": " + d.Reason + detail(&d))
		if call, ok := s.plugin.gate.RefreshFor(&d, start); ok {
			requestRefresh(call, d.Provider)
		}
		if err := proxywasm.SendHTTPResponse(uint32(d.Status), d.Headers, d.Body); err != nil {
			panic("sending the local response: " + err.Error())
		}
		return types.ActionPause
	}
	for _, name := range d.RemoveHeaders {
		mustHeader(proxywasm.RemoveHTTPRequestHeader(name))
	}
	for _, h := range d.SetHeaders {
		mustHeader(proxywasm.ReplaceHTTPRequestHeader(h[0], h[1]))
	}
	if d.Path != "" {
		mustHeader(proxywasm.ReplaceHTTPRequestHeader(":path", d.Path))
	}
	return types.ActionContinue
}

// detail is the log-only part of a refusal: what in the token it is about.
func detail(d *gate.Decision) string {
	if d.Detail == "" {
		return ""
	}
	return " (" + d.Detail + ")"
}

// requestRefresh asks the key fetcher, fire and forget, for a new key set of
// provider. The refused request does not wait for it.
func requestRefresh(call gate.RefreshCall, provider string) {
	_, err := proxywasm.DispatchHTTPCall(call.Upstream, call.Headers, nil, call.TimeoutMillis, func(numHeaders, _, _ int) {
		if numHeaders == 0 {
			proxywasm.LogWarn("key refresh request for provider " + provider + " to " + call.Upstream + " failed")
		}
	})
	if err != nil {
		proxywasm.LogWarn("cannot send the key refresh request for provider " + provider + " to " + call.Upstream + ": " + err.Error())
	} else {
		proxywasm.LogInfo("asked " + call.Upstream + " to refresh the keys of provider " + provider)
	}
}

// mustHeader fails the request closed when a header mutation the decision
// depends on (removing the token, setting a verified claim) did not happen.
func mustHeader(err error) {
	if err != nil {
		panic("changing request headers: " + err.Error())
	}
}

// metrics are the plugin's counters and the decision-time histogram, named
// tokengate.* (Envoy shows them as wasmcustom.tokengate.*). Envoy numbers
// metrics from 0, so a separate flag says whether the host accepted each
// definition.
type metrics struct {
	allowed, denied, unavailable, cacheHits, dryRun counter
	byProvider                                      map[string]counter
	byCode                                          map[string]counter
	decisionMicros                                  counter
}

type counter struct {
	id      uint32
	defined bool
}

func define(typ abi.MetricType, name string) counter {
	id, err := proxywasm.DefineMetric(typ, name)
	return counter{id: id, defined: err == nil}
}

func (c counter) inc() {
	if c.defined {
		_ = proxywasm.IncrementMetric(c.id, 1)
	}
}

func (c counter) record(v uint64) {
	if c.defined {
		_ = proxywasm.RecordMetric(c.id, v)
	}
}

func (m *metrics) define(g *gate.Gate) {
	m.allowed = define(abi.MetricCounter, "tokengate.requests.allowed")
	m.denied = define(abi.MetricCounter, "tokengate.requests.denied")
	m.unavailable = define(abi.MetricCounter, "tokengate.requests.keys_unavailable")
	m.cacheHits = define(abi.MetricCounter, "tokengate.cache.hits")
	m.dryRun = define(abi.MetricCounter, "tokengate.requests.dry_run_denied")
	m.decisionMicros = define(abi.MetricHistogram, "tokengate.verify_us")
	m.byProvider = map[string]counter{}
	for _, name := range g.Providers() {
		m.byProvider[name] = define(abi.MetricCounter, "tokengate.provider."+name+".allowed")
	}
	m.byCode = map[string]counter{}
	for _, code := range gate.Codes() {
		m.byCode[code] = define(abi.MetricCounter, "tokengate.denied."+code)
	}
}

func (m *metrics) count(d *gate.Decision, start time.Time) {
	// Only decisions that checked a credential from scratch are timed: a
	// cache hit or a public route costs a microsecond, and the clock read
	// and the histogram call would cost more than the decision.
	if d.Cached {
		m.cacheHits.inc()
	} else if d.Provider != "" || !d.Allow {
		m.decisionMicros.record(uint64(proxywasm.GetCurrentTime().Sub(start) / time.Microsecond))
	}
	switch {
	case d.DryRun:
		m.dryRun.inc()
		m.allowed.inc()
	case d.Allow:
		m.allowed.inc()
		if d.Provider != "" {
			m.byProvider[d.Provider].inc()
		}
	case d.Status == 503:
		m.unavailable.inc()
		m.byCode[d.Code].inc()
	default:
		m.denied.inc()
		m.byCode[d.Code].inc()
	}
}
