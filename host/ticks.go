package host

import (
	"context"
	"time"
)

// Ticks follow Envoy: proxy_set_tick_period_milliseconds sets a period for
// the caller's root context on that VM (0 stops it), and the host calls
// proxy_on_tick(root) on that VM each period, between streams. Due times
// are measured on the plugin's clock (WithClock).

func (p *Plugin) pokeTicks() {
	select {
	case p.tickPoke <- struct{}{}:
	default:
	}
}

// vmsOfCurrent returns the VMs of the current configuration.
func (p *Plugin) vmsOfCurrent() []*vm {
	p.mu.Lock()
	g := p.gen
	p.mu.Unlock()
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*vm, 0, len(g.all))
	for v := range g.all {
		out = append(out, v)
	}
	return out
}

// tickLoop posts due ticks and sleeps until the next one is due.
func (p *Plugin) tickLoop() {
	defer p.bg.Done()
	const idle = time.Hour
	for {
		now := p.cfg.clock()
		wait := idle
		for _, v := range p.vmsOfCurrent() {
			if v.dueTick(now) {
				v.post(event{kind: evTick, ctxID: v.rootID})
				go v.kick()
			}
			if at, on := v.nextTickAt(); on {
				wait = min(wait, max(at.Sub(now), time.Millisecond))
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-p.life.Done():
			t.Stop()
			return
		case <-p.tickPoke:
			t.Stop()
		case <-t.C:
		}
	}
}

// Tick delivers proxy_on_tick to every VM of the current configuration
// whose tick period has elapsed on the plugin's clock, waiting for busy VMs
// to finish their stream first. It returns how many ticks it delivered.
// With WithManualTicks it is the only way ticks happen, which lets a test
// advance a fake clock and then call Tick.
func (p *Plugin) Tick(ctx context.Context) (int, error) {
	n := 0
	now := p.cfg.clock()
	for _, v := range p.vmsOfCurrent() {
		if err := lockCtx(ctx, v); err != nil {
			return n, err
		}
		if !v.closed && !v.broken && v.dueTick(now) {
			v.post(event{kind: evTick, ctxID: v.rootID})
			n++
		}
		v.drain()
		v.mu.Unlock()
	}
	return n, nil
}

// lockCtx locks v.mu unless ctx ends first.
func lockCtx(ctx context.Context, v *vm) error {
	for !v.mu.TryLock() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}
