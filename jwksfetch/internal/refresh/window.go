package refresh

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Window bounds how often a key set is fetched. Zero fields take the
// defaults: Default 5 min, Min 30 s, Max 24 h.
type Window struct {
	Default time.Duration
	Min     time.Duration
	Max     time.Duration
}

func (w Window) normalized() Window {
	if w.Default <= 0 {
		w.Default = 5 * time.Minute
	}
	if w.Min <= 0 {
		w.Min = 30 * time.Second
	}
	if w.Max <= 0 {
		w.Max = 24 * time.Hour
	}
	if w.Max < w.Min {
		w.Max = w.Min
	}
	return w
}

func (w Window) clamp(d time.Duration) time.Duration {
	w = w.normalized()
	if d < w.Min {
		return w.Min
	}
	if d > w.Max {
		return w.Max
	}
	return d
}

// Interval returns how long to wait before the next fetch after a successful
// response with header h: the Cache-Control max-age when present and valid,
// otherwise Default, always clamped to [Min, Max]. no-cache and no-store
// mean "as soon as allowed", that is Min.
func (w Window) Interval(h http.Header) time.Duration {
	w = w.normalized()
	d := w.Default
	for _, v := range h.Values("Cache-Control") {
		for _, dir := range strings.Split(v, ",") {
			dir = strings.ToLower(strings.TrimSpace(dir))
			switch {
			case dir == "no-cache" || dir == "no-store":
				return w.Min
			case strings.HasPrefix(dir, "max-age="):
				n, err := strconv.ParseInt(strings.Trim(dir[len("max-age="):], `"`), 10, 64)
				if err != nil || n < 0 {
					continue
				}
				if n > int64(w.Max/time.Second) {
					return w.Max
				}
				d = time.Duration(n) * time.Second
			}
		}
	}
	return w.clamp(d)
}

// Backoff returns how long to wait after the given number of consecutive
// failures (1 for the first): a random duration in [Min/2, cap] where cap
// doubles from Min with each failure and stops at Default. rnd must return
// a value in [0, 1).
func (w Window) Backoff(failures int, rnd func() float64) time.Duration {
	w = w.normalized()
	if failures < 1 {
		failures = 1
	}
	limit := w.Min
	for i := 1; i < failures && limit < w.Default; i++ {
		limit *= 2
	}
	if limit > w.Default {
		limit = w.Default
	}
	low := w.Min / 2
	return low + time.Duration(rnd()*float64(limit-low))
}
