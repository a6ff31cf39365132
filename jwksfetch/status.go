package jwksfetch

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// ProviderStatus is a snapshot of one fetched provider.
type ProviderStatus struct {
	Name                string
	Available           bool     // a key set is in force
	Kids                []string // kids of the key set in force, sorted
	LastSuccess         time.Time
	LastChange          time.Time // when the key set in force last changed
	LastError           string    // empty after a success
	ConsecutiveFailures int
	Fetches             uint64
	Failures            uint64
	NotModified         uint64
}

// Status returns one entry per fetched provider, in name order.
func (f *Fetcher) Status() []ProviderStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ProviderStatus, 0, len(f.order))
	for _, name := range f.order {
		p := f.provs[name]
		out = append(out, ProviderStatus{
			Name:                name,
			Available:           p.jwks != nil,
			Kids:                append([]string(nil), p.kids...),
			LastSuccess:         p.lastSuccess,
			LastChange:          p.lastChange,
			LastError:           p.lastError,
			ConsecutiveFailures: p.failures,
			Fetches:             p.fetches,
			Failures:            p.fetchFailures,
			NotModified:         p.notMod,
		})
	}
	return out
}

// Ready reports whether every fetched provider has a key set in force.
func (f *Fetcher) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.provs {
		if p.jwks == nil {
			return false
		}
	}
	return true
}

// WriteMetrics writes the fetcher's metrics in the Prometheus text format.
func (f *Fetcher) WriteMetrics(w io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.s.clock.Now()
	b := bufio.NewWriter(w)
	family := func(name, kind, help string, value func(p *provider) (float64, bool)) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
		for _, n := range f.order {
			if v, ok := value(f.provs[n]); ok {
				fmt.Fprintf(b, "%s{provider=\"%s\"} %g\n", name, label(n), v)
			}
		}
	}
	family("jwksfetch_fetches_total", "counter", "Key set fetch attempts.", func(p *provider) (float64, bool) { return float64(p.fetches), true })
	family("jwksfetch_fetch_failures_total", "counter", "Key set fetches that failed or returned an unusable set.", func(p *provider) (float64, bool) { return float64(p.fetchFailures), true })
	family("jwksfetch_not_modified_total", "counter", "Key set fetches answered 304 Not Modified.", func(p *provider) (float64, bool) { return float64(p.notMod), true })
	family("jwksfetch_keys", "gauge", "Keys in the key set in force.", func(p *provider) (float64, bool) { return float64(len(p.kids)), true })
	family("jwksfetch_key_set_available", "gauge", "1 when the provider has a key set in force, 0 when its tokens get 503.", func(p *provider) (float64, bool) {
		if p.jwks != nil {
			return 1, true
		}
		return 0, true
	})
	family("jwksfetch_keys_age_seconds", "gauge", "Seconds since the key set in force was last confirmed by a successful fetch.", func(p *provider) (float64, bool) {
		return now.Sub(p.lastSuccess).Seconds(), p.jwks != nil
	})
	family("jwksfetch_last_success_timestamp_seconds", "gauge", "Unix time of the last successful fetch.", func(p *provider) (float64, bool) {
		return float64(p.lastSuccess.UnixNano()) / 1e9, !p.lastSuccess.IsZero()
	})
	family("jwksfetch_last_change_timestamp_seconds", "gauge", "Unix time the key set in force last changed.", func(p *provider) (float64, bool) {
		return float64(p.lastChange.UnixNano()) / 1e9, !p.lastChange.IsZero()
	})
	fmt.Fprintf(b, "# HELP jwksfetch_refresh_requests_total On-demand refresh requests by outcome.\n# TYPE jwksfetch_refresh_requests_total counter\n")
	for _, n := range f.order {
		p := f.provs[n]
		for o := RefreshScheduled; o < RefreshUnknownProvider; o++ {
			fmt.Fprintf(b, "jwksfetch_refresh_requests_total{provider=\"%s\",outcome=\"%s\"} %d\n", label(n), o, p.refreshes[o])
		}
	}
	fmt.Fprintf(b, "# HELP jwksfetch_publishes_total Distinct configurations taken by every sink.\n# TYPE jwksfetch_publishes_total counter\njwksfetch_publishes_total %d\n", f.publishes)
	fmt.Fprintf(b, "# HELP jwksfetch_publish_failures_total Configurations a sink refused.\n# TYPE jwksfetch_publish_failures_total counter\njwksfetch_publish_failures_total %d\n", f.publishFailures)
	return b.Flush()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func label(s string) string { return labelEscaper.Replace(s) }
