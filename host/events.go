package host

import (
	"time"
)

// Envoy runs a VM's asynchronous callbacks (ticks, queue notifications,
// HTTP-call responses, DNS answers) on the VM's own thread, between the
// callbacks of its streams. Here each VM has an inbox: events are posted to
// it from any goroutine and delivered by whoever holds the VM next: an idle
// VM is taken for the delivery, a busy one delivers when its stream waits
// or ends.

type eventKind int

const (
	evTick eventKind = iota
	evQueueReady
	evHTTPResponse
	evDNS
)

type event struct {
	kind  eventKind
	ctxID uint32
	token uint32
	resp  *callResponse // evHTTPResponse; nil means the call failed
	dns   []byte        // evDNS; nil means the lookup failed
}

// post queues e for v and wakes a stream waiting on v.
func (v *vm) post(e event) {
	v.evMu.Lock()
	v.inbox = append(v.inbox, e)
	v.evMu.Unlock()
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

func (v *vm) pending() bool {
	v.evMu.Lock()
	defer v.evMu.Unlock()
	return len(v.inbox) > 0
}

// kick delivers pending events if v is free. Every post and every release
// of v is followed by a kick, so no event is left behind.
func (v *vm) kick() {
	for v.pending() && v.mu.TryLock() {
		v.drain()
		v.mu.Unlock()
	}
}

// drain delivers every pending event; the caller holds v.mu.
func (v *vm) drain() {
	for {
		v.evMu.Lock()
		if len(v.inbox) == 0 {
			v.evMu.Unlock()
			return
		}
		e := v.inbox[0]
		v.inbox[0] = event{}
		v.inbox = v.inbox[1:]
		if e.kind == evHTTPResponse || e.kind == evDNS {
			v.outstanding--
		}
		v.evMu.Unlock()
		if v.closed || v.broken {
			continue
		}
		v.deliver(e)
	}
}

func (v *vm) deliver(e event) {
	var err error
	switch e.kind {
	case evTick:
		_, err = v.call(v.rootID, "proxy_on_tick", uint64(v.rootID))
	case evQueueReady:
		_, err = v.call(e.ctxID, "proxy_on_queue_ready", uint64(e.ctxID), uint64(e.token))
	case evHTTPResponse:
		err = v.deliverHTTPResponse(e)
	case evDNS:
		v.callData, v.hasCallBuf = e.dns, true
		_, err = v.call(e.ctxID, "envoy_on_resolve_dns", uint64(e.ctxID), uint64(e.token), uint64(len(e.dns)))
		v.callData, v.hasCallBuf = nil, false
	}
	if err != nil {
		v.p.cfg.logger.Error("plugin trapped in an asynchronous callback; the VM is replaced", "err", err, "plugin", v.p.cfg.name)
		if v.stream != nil {
			v.stream.trap = err
		}
	}
	v.finishDone()
}

// finishDone deletes the lingering root contexts that called proxy_done
// and closes a retired VM once none is left.
func (v *vm) finishDone() {
	if v.closed {
		return
	}
	for id, done := range v.lingering {
		if done {
			delete(v.lingering, id)
			v.call(id, "proxy_on_delete", uint64(id))
		}
	}
	if v.closeWhenDone && (len(v.lingering) == 0 || v.broken) {
		v.close(v.p.life)
		v.p.forgetLingering(v)
	}
}

// setTickPeriod implements proxy_set_tick_period_milliseconds for v's root
// context; 0 stops the ticks.
func (v *vm) setTickPeriod(d time.Duration) {
	v.evMu.Lock()
	v.tickPeriod = d
	if d > 0 {
		v.nextTick = v.p.cfg.clock().Add(d)
	}
	v.evMu.Unlock()
	v.p.pokeTicks()
}

// dueTick reports whether v's tick is due at now and, if so, schedules the
// next one.
func (v *vm) dueTick(now time.Time) bool {
	v.evMu.Lock()
	defer v.evMu.Unlock()
	if v.tickPeriod <= 0 || now.Before(v.nextTick) {
		return false
	}
	v.nextTick = now.Add(v.tickPeriod)
	return true
}

func (v *vm) nextTickAt() (time.Time, bool) {
	v.evMu.Lock()
	defer v.evMu.Unlock()
	return v.nextTick, v.tickPeriod > 0
}

// addOutstanding counts a callout whose answer will be posted later.
func (v *vm) addOutstanding() {
	v.evMu.Lock()
	v.outstanding++
	v.evMu.Unlock()
}

func (v *vm) hasOutstanding() bool {
	v.evMu.Lock()
	defer v.evMu.Unlock()
	return v.outstanding > 0 || len(v.inbox) > 0
}
