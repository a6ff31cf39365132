package gate

import (
	"time"

	"github.com/tokengate/tokengate/internal/refreshapi"

	"github.com/tidwall/gjson"
)

// refresh is where the plugin asks the key fetcher for a new key set when a
// token names a kid its provider does not have (a key rotation the fetcher
// has not seen yet). The request is an HTTP call to an upstream the proxy
// knows (an Envoy cluster, or a named upstream of the Go host) and is fire
// and forget: the token in hand is refused either way, and the fetcher pushes
// new keys as a configuration update.
type refresh struct {
	cluster   string
	authority string
	path      string
	timeout   uint32 // milliseconds
	interval  float64
	last      map[string]time.Time // provider → last request from this VM
}

// RefreshCall is one request to send.
type RefreshCall struct {
	Upstream      string
	Headers       [][2]string
	TimeoutMillis uint32
}

func (c *compiler) refresh(path string, v gjson.Result) *refresh {
	if !v.Exists() {
		return nil
	}
	if !c.fields(path, v, "cluster", "authority", "path", "timeout_ms", "min_interval_seconds") {
		return nil
	}
	r := &refresh{
		cluster:   c.str(path+".cluster", v.Get("cluster"), ""),
		authority: c.str(path+".authority", v.Get("authority"), refreshapi.Upstream),
		path:      c.str(path+".path", v.Get("path"), refreshapi.Path),
		timeout:   uint32(c.number(path+".timeout_ms", v.Get("timeout_ms"), 2000, 60000)),
		interval:  c.number(path+".min_interval_seconds", v.Get("min_interval_seconds"), 10, 86400),
		last:      map[string]time.Time{},
	}
	if r.cluster == "" {
		c.fail(path+".cluster", "is required: the upstream (Envoy cluster) of the jwksfetch daemon")
	}
	if r.path == "" || r.path[0] != '/' || !printable(r.path) {
		c.fail(path+".path", "must be an absolute path")
	}
	if !printable(r.authority) {
		c.fail(path+".authority", "must be printable ASCII")
	}
	return r
}

// RefreshFor returns the refresh request a decision calls for, if any: the
// decision refused a token for an unknown kid, refresh is configured, and
// this VM has not asked for this provider within min_interval_seconds.
func (g *Gate) RefreshFor(d *Decision, now time.Time) (RefreshCall, bool) {
	r := g.refresh
	if r == nil || !d.UnknownKID || d.Provider == "" || len(d.KID) > 256 {
		return RefreshCall{}, false
	}
	if last, ok := r.last[d.Provider]; ok && now.Sub(last).Seconds() < r.interval {
		return RefreshCall{}, false
	}
	r.last[d.Provider] = now
	return RefreshCall{
		Upstream: r.cluster,
		Headers: [][2]string{
			{":method", refreshapi.Method},
			{":path", refreshapi.Target(r.path, d.Provider, d.KID)},
			{":authority", r.authority},
			{"content-length", "0"},
		},
		TimeoutMillis: r.timeout,
	}, true
}
