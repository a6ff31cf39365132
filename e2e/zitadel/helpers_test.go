package zitadel

import (
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// steadyLoad sends token through status from two goroutines until the
// returned stop is called, which reports how many requests were sent and how
// many did not get 200.
func steadyLoad(status func(token string) int, token string) (stop func() (sent, failed int64)) {
	var s, f atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				s.Add(1)
				if status(token) != http.StatusOK {
					f.Add(1)
				}
			}
		})
	}
	return func() (int64, int64) {
		close(done)
		wg.Wait()
		return s.Load(), f.Load()
	}
}
