package host

import (
	"sync"

	"github.com/tokengate/tokengate/internal/abi"
)

// queueRegistry holds the shared queues of one Shared, keyed by (vm_id,
// name) like proxy-wasm-cpp-host's SharedQueue, so a VM can resolve and
// enqueue to a queue of another vm_id.
type queueRegistry struct {
	mu     sync.Mutex
	byName map[queueKey]uint32
	byTok  map[uint32]*sharedQueue
	next   uint32
}

type queueKey struct{ vmID, name string }

type sharedQueue struct {
	key   queueKey
	items [][]byte
	owner *vm    // the last registrant; nil once it is gone
	root  uint32 // its root context, which receives proxy_on_queue_ready
}

func newQueueRegistry() *queueRegistry {
	return &queueRegistry{byName: map[queueKey]uint32{}, byTok: map[uint32]*sharedQueue{}}
}

// register creates the queue or rebinds it to the caller: the last
// registrant receives proxy_on_queue_ready.
func (r *queueRegistry) register(vmID, name string, owner *vm, root uint32) uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := queueKey{vmID, name}
	if tok, ok := r.byName[k]; ok {
		q := r.byTok[tok]
		q.owner, q.root = owner, root
		return tok
	}
	for {
		r.next++
		if _, used := r.byTok[r.next]; r.next != 0 && !used {
			break
		}
	}
	r.byName[k] = r.next
	r.byTok[r.next] = &sharedQueue{key: k, owner: owner, root: root}
	return r.next
}

func (r *queueRegistry) resolve(vmID, name string) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tok, ok := r.byName[queueKey{vmID, name}]
	return tok, ok
}

// enqueue appends data and posts proxy_on_queue_ready to the registrant;
// delivery happens when that VM is next free, never inside the caller's
// callback.
func (r *queueRegistry) enqueue(tok uint32, data []byte) abi.Status {
	r.mu.Lock()
	q, ok := r.byTok[tok]
	if !ok {
		r.mu.Unlock()
		return abi.StatusNotFound
	}
	q.items = append(q.items, data)
	owner, root := q.owner, q.root
	r.mu.Unlock()
	if owner != nil {
		owner.post(event{kind: evQueueReady, ctxID: root, token: tok})
		go owner.kick()
	}
	return abi.StatusOK
}

// dequeue pops the oldest item: NOT_FOUND for an unknown token, EMPTY for an
// empty queue.
func (r *queueRegistry) dequeue(tok uint32) ([]byte, abi.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q, ok := r.byTok[tok]
	if !ok {
		return nil, abi.StatusNotFound
	}
	if len(q.items) == 0 {
		return nil, abi.StatusEmpty
	}
	d := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return d, abi.StatusOK
}

// unbind stops deliveries to a VM that is closing; the queues and their
// items stay until their vm_id goes away.
func (r *queueRegistry) unbind(v *vm) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.byTok {
		if q.owner == v {
			q.owner = nil
		}
	}
}

// dropVMID deletes the queues of a vm_id no loaded plugin uses any more.
// The caller holds its Shared's lock, so no plugin can take the vm_id
// meanwhile.
func (r *queueRegistry) dropVMID(vmID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, tok := range r.byName {
		if k.vmID == vmID {
			delete(r.byName, k)
			delete(r.byTok, tok)
		}
	}
}
