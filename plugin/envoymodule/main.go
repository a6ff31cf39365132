//go:build cgo && linux

package main

import (
	"errors"
	"strings"
	"sync"

	"github.com/tokengate/tokengate/plugin/envoymodule/internal/dynmod"
	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// version is set at build time from git (-ldflags -X main.version=...).
var version = "dev"

func main() {}

func init() { dynmod.SetModule(module{}) }

// filterName is the filter_name of the DynamicModuleFilter.
const filterName = "tokengate"

type module struct{}

// NewConfig compiles a filter configuration: one Gate per Envoy worker and
// one spare for calls from a thread Envoy does not number.
func (module) NewConfig(name string, config []byte) (dynmod.Config, error) {
	if name != filterName {
		return nil, errors.New(`tokengate: unknown filter_name "` + name + `": the module has one filter, "` + filterName + `"`)
	}
	c, warnings, err := newConfig(config, dynmod.Concurrency())
	for _, w := range warnings {
		dynmod.Log(dynmod.LevelWarn, "tokengate: "+w)
	}
	if err != nil {
		return nil, err
	}
	dynmod.Log(dynmod.LevelInfo, "tokengate "+version+" configured (native module)")
	return c, nil
}

// config is one compiled filter configuration, shared by Envoy's workers.
type config struct {
	workers []*worker // indexed by Envoy's worker index
	spare   struct {
		sync.Mutex
		w *worker
	}
}

// worker is what one Envoy worker thread uses for its requests, one at a
// time: its own Gate (and so its own verified-token cache) and scratch space.
type worker struct {
	gate    *gate.Gate
	envoy   envoyStream // the request being decided
	headers [][2]string
}

// newConfig compiles cfg once per worker (workers < 1 counts as 1) plus
// the spare. It returns the first compilation's warnings.
func newConfig(cfg []byte, workers int) (*config, []string, error) {
	workers = max(workers, 1)
	compile := func() (*worker, []string, error) {
		g, warnings, err := gate.Compile(cfg)
		if err != nil {
			return nil, warnings, errors.New("tokengate: configuration refused: " + err.Error())
		}
		if g.WritesFilterState() {
			// Refused rather than ignored: an RBAC policy that denies on
			// the filter state would otherwise never see it.
			return nil, warnings, errors.New("tokengate: configuration refused: envoy_filter_state: the native module " +
				"does not write filter state; use the Wasm module, or remove envoy_filter_state")
		}
		if c := g.Callouts(); len(c) > 0 {
			// Refused rather than ignored: browsers would be sent to sign
			// in with no way back, opaque tokens and bundle-fed providers
			// would be refused forever.
			return nil, warnings, errors.New("tokengate: configuration refused: " + strings.Join(c, ", ") +
				": the native module makes no HTTP calls, which these need (token requests, introspection, key bundles); " +
				"use the Wasm module, or remove them")
		}
		return &worker{gate: g}, warnings, nil
	}
	spare, warnings, err := compile()
	if err != nil {
		return nil, warnings, err
	}
	c := &config{workers: make([]*worker, workers)}
	c.spare.w = spare
	for i := range c.workers {
		if c.workers[i], _, err = compile(); err != nil {
			return nil, warnings, err
		}
	}
	return c, warnings, nil
}

func (c *config) RequestHeaders(f dynmod.Filter, worker int, _ bool) dynmod.HeadersStatus {
	if worker >= 0 && worker < len(c.workers) {
		return c.workers[worker].decideFor(f)
	}
	c.spare.Lock()
	defer c.spare.Unlock()
	return c.spare.w.decideFor(f)
}

func (c *config) Destroy() {}

// decideFor decides on the request of Envoy's filter f.
func (w *worker) decideFor(f dynmod.Filter) dynmod.HeadersStatus {
	w.envoy.f = f
	return w.decide(&w.envoy)
}
