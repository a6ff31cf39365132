//go:build cgo && linux

package dynmod

import (
	"runtime"
	"time"
)

// Why pace: a hook runs Go on an Envoy worker thread. On entry the thread
// takes a P (Go's scheduling context); on return to Envoy it keeps that P
// as if it were in a system call, ready for the next hook. But no goroutine
// is ever scheduled on that P, so its scheduler tick never moves, and after
// 10 ms Go's system monitor (sysmon) judges the thread stuck: from then on
// it takes the P away every time it finds the thread back in Envoy, hands it
// to another thread that wakes up, finds nothing to run and sleeps again,
// and polls every 20 µs instead of backing off to 10 ms. Envoy pays for all
// of that on every request (golang/go#57103 describes the same effect).
//
// Yielding once every paceEvery on each worker thread lets the scheduler
// run a goroutine on that P, which moves its tick: the monitor then leaves
// the P alone and sleeps. The yield costs a hand-over to another thread and
// back (tens of µs, once per paceEvery per worker); the churn it removes
// cost several µs per request (RATIONALE.md, "Why does the native module
// yield to the Go scheduler every 5 ms?").
const paceEvery = 5 * time.Millisecond // half of sysmon's 10 ms

// maxPaced is how many worker threads are paced; threads with a higher
// index (or none) are not, which costs only speed.
const maxPaced = 256

// paced holds, per worker index, when that worker next yields. Each slot is
// written only by its own worker thread; the padding keeps two workers'
// slots off one cache line.
var paced [maxPaced]struct {
	next time.Duration
	_    [56]byte
}

// epoch is the start of the monotonic clock pace reads.
var epoch = time.Now()

// pace yields to the Go scheduler when worker has not done so for
// paceEvery. It is called at the end of each hook that ran Go code.
func pace(worker int) {
	if worker < 0 || worker >= maxPaced {
		return
	}
	now := time.Since(epoch)
	if now < paced[worker].next {
		return
	}
	paced[worker].next = now + paceEvery
	runtime.Gosched()
}
