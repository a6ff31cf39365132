//go:build wasip1

package main

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/internal/abi"
	"github.com/tokengate/tokengate/internal/keybundle"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

// Key bundles (docs/configuration.md, "bundle"; RATIONALE.md). With a
// "bundle" section the plugin takes its providers' key sets from signed
// bundles that the jwksfetch service serves: it polls the service as it is
// configured and then on the tick (every poll_interval_seconds; every 5 s
// while it has no keys from a bundle), and gets a bundle as the answer to
// an unknown-kid refresh too. The gate verifies each bundle (signature by a
// pinned key, a newer version, an issue time within max_stale) and installs
// it, or keeps the keys in force; a refused bundle is counted by reason.
// When no good bundle has arrived for max_stale, the keys are withdrawn and
// the providers' tokens get 503 until one does.

// heldBundle is the last bundle this VM installed, as it came. It is VM state
// like the paused requests: a configuration that replaces another on the
// same VM (Envoy makes a new plugin context for every listener update)
// starts from it, verified again with its own settings, instead of
// answering 503 until its first poll.
var heldBundle []byte

// bundleState is one configuration's bundle metrics and what its log says.
type bundleState struct {
	installed, unchanged, callFailed, withdrawn counter
	rejected                                    map[string]counter // by keybundle.Reason
	version                                     counter            // a gauge
	failing                                     bool               // the last poll failed; logged once per failure streak
}

type counter struct {
	id      uint32
	defined bool
}

func define(typ abi.MetricType, name string) counter {
	id, err := proxywasm.Host{}.DefineMetric(typ, name)
	return counter{id: id, defined: err == nil}
}

// inc counts one event at once: bundles come every few seconds at most, so
// their counters need no batching.
func (c counter) inc() {
	if c.defined {
		_ = proxywasm.Host{}.IncrementMetric(c.id, 1)
	}
}

// startBundles defines the bundle metrics of a new configuration and
// installs the VM's last bundle, if the configuration takes bundles.
func (p *plugin) startBundles() {
	if !p.gate.UsesBundles() {
		return
	}
	b := &p.bundle
	b.installed = define(abi.MetricCounter, "tokengate.bundle.installed")
	b.unchanged = define(abi.MetricCounter, "tokengate.bundle.unchanged")
	b.callFailed = define(abi.MetricCounter, "tokengate.bundle.call_failed")
	b.withdrawn = define(abi.MetricCounter, "tokengate.bundle.withdrawn")
	b.version = define(abi.MetricGauge, "tokengate.bundle.version")
	b.rejected = map[string]counter{}
	for _, r := range keybundle.Reasons() {
		b.rejected[r] = define(abi.MetricCounter, "tokengate.bundle.rejected."+r)
	}
	now := proxywasm.GetCurrentTime()
	if heldBundle != nil {
		_, _ = p.installBundle(heldBundle, now, "this VM's last bundle")
	}
	if p.gate.BundleVersion() == 0 {
		// No keys: poll now rather than a tick later. A host that allows no
		// call while configuring has the tick try again.
		p.poll(now)
	}
}

// bundleTick withdraws the keys of a bundle older than max_stale and sends
// the poll when it is due.
func (p *plugin) bundleTick() {
	if p.gate == nil || !p.gate.UsesBundles() {
		return
	}
	now := proxywasm.GetCurrentTime()
	if names, age := p.gate.ExpireBundle(now); names != nil {
		p.bundle.withdrawn.inc()
		proxywasm.LogError("key bundle: no good bundle for " + strconv.FormatInt(int64(age/time.Second), 10) +
			" s, longer than max_stale_seconds (" + strconv.FormatInt(int64(p.gate.BundleMaxStale()/time.Second), 10) +
			"): the keys of providers [" + strings.Join(names, " ") + "] are withdrawn and their tokens are answered with 503 " +
			"until a good bundle arrives; is the jwksfetch service reachable, and are bundles refused (tokengate.bundle.rejected.*)?")
	}
	p.poll(now)
}

// poll sends the poll when it is due.
func (p *plugin) poll(now time.Time) {
	call, ok := p.gate.PlanBundlePoll(now)
	if !ok {
		return
	}
	_, err := proxywasm.DispatchHTTPCall(call.Upstream, call.Headers, nil, call.TimeoutMillis, func(numHeaders, bodySize, _ int) {
		p.polled(numHeaders, bodySize)
	})
	if err != nil {
		p.gate.BundlePollEnded()
		p.pollFailed(errors.New("cannot send the poll to " + call.Upstream + ": " + err.Error() + "; is there an upstream (Envoy cluster) of that name?"))
	}
}

// polled is the answer to a poll.
func (p *plugin) polled(numHeaders, bodySize int) {
	p.gate.BundlePollEnded()
	data, notModified, err := bundleAnswer(numHeaders, bodySize)
	if err != nil {
		p.pollFailed(err)
		return
	}
	p.pollWorked()
	if notModified {
		p.bundle.unchanged.inc()
		return
	}
	_, _ = p.installBundle(data, proxywasm.GetCurrentTime(), "the poll")
}

func (p *plugin) pollFailed(err error) {
	p.bundle.callFailed.inc()
	if !p.bundle.failing {
		p.bundle.failing = true
		proxywasm.LogWarn("key bundle: polling the fetcher failed, keeping the keys in force (for max_stale_seconds after the last good bundle was issued): " + err.Error())
	}
}

func (p *plugin) pollWorked() {
	if p.bundle.failing {
		p.bundle.failing = false
		proxywasm.LogInfo("key bundle: the fetcher answers again")
	}
}

// installBundle hands a bundle to the gate, logs and counts what it did,
// and keeps an installed bundle as the VM's.
func (p *plugin) installBundle(data []byte, now time.Time, from string) (keys func(provider string) []byte, err error) {
	out, err := p.gate.InstallBundle(data, now)
	switch reason := keybundle.Reason(err); {
	case err == nil:
		heldBundle = bytes.Clone(data)
		p.bundle.installed.inc()
		if p.bundle.version.defined {
			_ = proxywasm.Host{}.RecordMetric(p.bundle.version.id, out.Version)
		}
		proxywasm.LogInfo("key bundle: installed version " + strconv.FormatUint(out.Version, 10) + " from " + from +
			" (issued " + out.IssuedAt.UTC().Format(time.RFC3339) + ", signed by key " + out.KeyID + ")")
		for _, w := range out.Warnings {
			proxywasm.LogWarn("key bundle: " + w)
		}
		if len(out.Missing) > 0 {
			proxywasm.LogWarn("key bundle: version " + strconv.FormatUint(out.Version, 10) + " has no key set for providers [" +
				strings.Join(out.Missing, " ") + "]: their tokens are answered with 503 (see the fetcher's /readyz)")
		}
		return out.KeySet, nil
	case reason == "unchanged":
		p.bundle.unchanged.inc()
	case reason != "":
		p.bundle.rejected[reason].inc()
		proxywasm.LogWarn("key bundle from " + from + " refused (" + reason + "), keeping the keys in force: " + err.Error())
	default:
		proxywasm.LogWarn("key bundle from " + from + ": " + err.Error())
	}
	return nil, err
}

// refreshAnswer reads the answer to an unknown-kid refresh for provider
// (stream.go): with bundles, a bundle, installed whole when it is good, and
// the provider's key set from it (nil when it brought nothing new);
// otherwise the provider's key set itself.
func (p *plugin) refreshAnswer(provider, tenant string, numHeaders, bodySize int, now time.Time) ([]byte, error) {
	if !p.gate.UsesBundles() {
		return keySet(numHeaders, bodySize, tenant)
	}
	data, notModified, err := bundleAnswer(numHeaders, bodySize)
	if err == nil && notModified {
		err = errors.New("the fetcher answered 304 to a key refresh")
	}
	if err != nil {
		p.bundle.callFailed.inc()
		return nil, err
	}
	keys, err := p.installBundle(data, now, "the key refresh for provider "+provider)
	if err != nil {
		if keybundle.Reason(err) == "unchanged" {
			return nil, errors.New("the fetcher's bundle is the one in force: it has no newer key set")
		}
		return nil, err
	}
	return keys(provider), nil
}

// bundleAnswer reads an answer that should carry a bundle: the bundle, or
// notModified for a 304, or why there is none.
func bundleAnswer(numHeaders, bodySize int) (data []byte, notModified bool, err error) {
	h, err := readCallHead(numHeaders)
	if err != nil {
		return nil, false, err
	}
	if h.status == "304" {
		return nil, true, nil
	}
	if err := keybundle.CheckAnswer(h.status, h.contentType, bodySize); err != nil {
		return nil, false, err
	}
	data, err = readCallBody(bodySize)
	return data, false, err
}
