package coalesce

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDo(t *testing.T) {
	t.Parallel()
	t.Run("concurrent callers for one key share a single call", func(t *testing.T) {
		t.Parallel()
		var g Group[int]
		var runs atomic.Int32
		release := make(chan struct{})
		started := make(chan struct{})
		fn := func() (int, error) {
			runs.Add(1)
			close(started)
			<-release
			return 42, nil
		}
		var wg sync.WaitGroup
		results := make([]int, 5)
		shared := make([]bool, 5)
		wg.Add(1)
		go func() { defer wg.Done(); results[0], _, shared[0] = g.Do("k", fn) }()
		<-started
		for i := 1; i < 5; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); results[i], _, shared[i] = g.Do("k", fn) }()
		}
		for deadline := time.Now().Add(5 * time.Second); g.Waiters("k") < 4; {
			if time.Now().After(deadline) {
				t.Fatalf("waiters = %d, want 4", g.Waiters("k"))
			}
			time.Sleep(time.Millisecond)
		}
		close(release)
		wg.Wait()
		if runs.Load() != 1 {
			t.Fatalf("fn ran %d times, want 1", runs.Load())
		}
		n := 0
		for i := range results {
			if results[i] != 42 {
				t.Fatalf("results[%d] = %d", i, results[i])
			}
			if shared[i] {
				n++
			}
		}
		if n != 4 {
			t.Fatalf("%d callers shared, want 4", n)
		}
	})
	t.Run("different keys do not wait for each other", func(t *testing.T) {
		t.Parallel()
		var g Group[string]
		block := make(chan struct{})
		defer close(block)
		go g.Do("slow", func() (string, error) { <-block; return "", nil })
		v, err, shared := g.Do("fast", func() (string, error) { return "x", errors.New("boom") })
		if v != "x" || err == nil || shared {
			t.Fatalf("got %q, %v, %v", v, err, shared)
		}
	})
	t.Run("a finished call is not reused", func(t *testing.T) {
		t.Parallel()
		var g Group[int]
		n := 0
		for i := 0; i < 3; i++ {
			g.Do("k", func() (int, error) { n++; return n, nil })
		}
		if n != 3 {
			t.Fatalf("fn ran %d times, want 3", n)
		}
	})
}
