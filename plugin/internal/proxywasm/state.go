package proxywasm

import "github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

// state maps context ids to the plugin's contexts. A VM runs one callback at
// a time, so no locking is needed.
type state struct {
	vm      types.VMContext
	plugins map[uint32]types.PluginContext
	streams map[uint32]types.HttpContext
	calls   map[uint32]HTTPCallback
}

var vmState = state{
	plugins: map[uint32]types.PluginContext{},
	streams: map[uint32]types.HttpContext{},
	calls:   map[uint32]HTTPCallback{},
}

// SetVMContext registers the plugin's VM context. Call it exactly once, from
// an init function of package main.
func SetVMContext(vm types.VMContext) { vmState.vm = vm }

// HTTPCallback receives the response to DispatchHTTPCall. numHeaders is 0
// when the call failed (timeout, reset, unknown upstream).
type HTTPCallback func(numHeaders, bodySize, numTrailers int)

func (s *state) createContext(id, parent uint32) {
	if parent == 0 {
		if s.vm == nil {
			panic("proxywasm: no VM context registered; call SetVMContext from init")
		}
		s.plugins[id] = s.vm.NewPluginContext(id)
		return
	}
	root, ok := s.plugins[parent]
	if !ok {
		panic("proxywasm: stream context created for an unknown plugin context")
	}
	if hc := root.NewHttpContext(id); hc != nil {
		s.streams[id] = hc
	}
}

func (s *state) deleteContext(id uint32) {
	delete(s.plugins, id)
	delete(s.streams, id)
}
