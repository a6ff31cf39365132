package host

import (
	"sync"

	"github.com/tokengate/tokengate/internal/abi"
)

// vmShared is the state Envoy keeps per vm_id and shares between every VM
// with that id: the shared-data store and the shared queues. It lives while
// some loaded Plugin uses the vm_id and is dropped with the last one, as
// Envoy drops it with the last VM.
type vmShared struct {
	id   string
	refs int // guarded by sharedMu

	mu  sync.Mutex
	kv  map[string]sharedEntry
	cas uint32
}

type sharedEntry struct {
	val []byte
	cas uint32
}

var (
	sharedMu  sync.Mutex
	sharedIDs = map[string]*vmShared{}
)

func acquireShared(vmID string) *vmShared {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	s, ok := sharedIDs[vmID]
	if !ok {
		s = &vmShared{id: vmID, kv: map[string]sharedEntry{}}
		sharedIDs[vmID] = s
	}
	s.refs++
	return s
}

func (s *vmShared) release() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	s.refs--
	if s.refs == 0 {
		delete(sharedIDs, s.id)
		queues.dropVMID(s.id)
	}
}

func (s *vmShared) get(k string) ([]byte, uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.kv[k]
	return e.val, e.cas, ok
}

// set follows proxy-wasm-cpp-host: a non-zero cas must equal the key's
// current cas (a key that does not exist yet accepts any cas), and every
// successful set takes a new, never-zero cas from a counter.
func (s *vmShared) set(k string, v []byte, cas uint32) abi.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.kv[k]
	if ok && cas != 0 && cas != e.cas {
		return abi.StatusCASMismatch
	}
	s.cas++
	if s.cas == 0 {
		s.cas++
	}
	s.kv[k] = sharedEntry{val: v, cas: s.cas}
	return abi.StatusOK
}

// forget drops the queue registrations that deliver to v.
func (s *vmShared) forget(v *vm) { queues.unbind(v) }
