package host

import (
	"errors"
	"sync"

	"github.com/tokengate/tokengate/internal/abi"
)

// Shared is what Envoy keeps per process for its Wasm VMs and lets VMs
// share: the shared data of each vm_id (proxy_get_shared_data,
// proxy_set_shared_data), and the shared queues, keyed by vm_id and name so
// that a VM can resolve and enqueue to a queue of another vm_id.
//
// Each Load gets a Shared of its own unless WithSharedState passes one in:
// a Go process may run many plugins (two tests in parallel, two proxies),
// and none sees another's data by accident. Plugins given the same Shared
// behave like VMs in one Envoy: those with the same vm_id (WithVMID) share
// data and queues, those with different vm_ids share only the queue
// namespace. A vm_id's data and queues are dropped when the last plugin
// using it is closed, as Envoy drops them with its last VM.
//
// A Shared is safe for concurrent use; the zero value is not usable, call
// NewShared.
type Shared struct {
	mu     sync.Mutex
	ids    map[string]*vmShared // guarded by mu
	queues *queueRegistry
}

// NewShared returns an empty Shared, for WithSharedState.
func NewShared() *Shared {
	return &Shared{ids: map[string]*vmShared{}, queues: newQueueRegistry()}
}

// WithSharedState makes the plugin keep its shared data and queues in s, so
// that plugins loaded with the same s share them as Envoy's VMs in one
// process do (by vm_id). Without it, Load creates a Shared for the plugin
// alone. A nil s is an error.
func WithSharedState(s *Shared) Option {
	return func(c *config) {
		if s == nil || s.ids == nil {
			c.errs = append(c.errs, errNilShared)
			return
		}
		c.shared = s
	}
}

var errNilShared = errors.New("host: WithSharedState needs a *Shared from NewShared, not nil or a zero Shared")

// vmShared is the shared-data store of one vm_id in one Shared. It lives
// while some loaded Plugin uses the vm_id and is dropped with the last one.
type vmShared struct {
	id    string
	state *Shared
	refs  int // guarded by state.mu

	mu  sync.Mutex
	kv  map[string]sharedEntry
	cas uint32
}

type sharedEntry struct {
	val []byte
	cas uint32
}

// acquire returns the store of vmID, creating it for the first plugin.
func (s *Shared) acquire(vmID string) *vmShared {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.ids[vmID]
	if !ok {
		v = &vmShared{id: vmID, state: s, kv: map[string]sharedEntry{}}
		s.ids[vmID] = v
	}
	v.refs++
	return v
}

// release drops one plugin's hold; the last one drops the vm_id's data and
// queues.
func (v *vmShared) release() {
	s := v.state
	s.mu.Lock()
	defer s.mu.Unlock()
	v.refs--
	if v.refs == 0 {
		delete(s.ids, v.id)
		s.queues.dropVMID(v.id)
	}
}

func (v *vmShared) get(k string) ([]byte, uint32, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.kv[k]
	return e.val, e.cas, ok
}

// set follows proxy-wasm-cpp-host: a non-zero cas must equal the key's
// current cas (a key that does not exist yet accepts any cas), and every
// successful set takes a new, never-zero cas from a counter.
func (v *vmShared) set(k string, val []byte, cas uint32) abi.Status {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.kv[k]
	if ok && cas != 0 && cas != e.cas {
		return abi.StatusCASMismatch
	}
	v.cas++
	if v.cas == 0 {
		v.cas++
	}
	v.kv[k] = sharedEntry{val: val, cas: v.cas}
	return abi.StatusOK
}

// queues is the queue registry the vm_id's plugins use.
func (v *vmShared) queues() *queueRegistry { return v.state.queues }

// forget drops the queue registrations that deliver to vm.
func (v *vmShared) forget(m *vm) { v.state.queues.unbind(m) }
