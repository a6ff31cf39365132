// Package metrics keeps the plugin's statistics: a counter per outcome, per
// provider and per refusal code, a histogram of the time spent on decisions
// that checked a credential from scratch, and, for requests paused while the
// key fetcher is asked for a key set (pause.go), a counter of them, one per
// way they ended and a histogram of how long they waited. Envoy shows them
// under wasmcustom.tokengate.*.
//
// It makes its host calls through Host (define, increment and record a
// metric, read the clock), which the Proxy-Wasm binding satisfies, so that it
// is tested natively with a fake host. Metrics are defined once per
// configuration. Counting a decision allocates nothing and makes no host call
// (an uncached check adds one clock read and one histogram sample): counters
// are held in the module and added to the host's by Flush, which the plugin
// calls on every tick (TickMillis) and Count itself every FlushEvery
// decisions, one increment per counter that moved:
//
//	m := metrics.Define(proxywasm.Host{}, g.Providers(), gate.Codes())
//	start := host.Now()
//	d := g.Decide(req, start)
//	m.Count(&d, start)
//	...
//	m.Flush() // from OnTick
package metrics
