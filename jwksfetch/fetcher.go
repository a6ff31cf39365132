package jwksfetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokengate/tokengate/jwksfetch/internal/coalesce"
	"github.com/tokengate/tokengate/jwksfetch/internal/discovery"
	"github.com/tokengate/tokengate/jwksfetch/internal/httpget"
	"github.com/tokengate/tokengate/jwksfetch/internal/refresh"
)

// publishRetry is how long the fetcher waits before handing a configuration
// again to a sink that failed to take it.
const publishRetry = time.Second

// maxUnknownKids bounds the memory of kids that a refresh did not find.
const maxUnknownKids = 1024

// Fetcher keeps the key sets of a plugin configuration fresh and hands the
// rendered configuration to its sinks whenever it changes. Create it with
// New, start it with Run; its other methods are safe to call concurrently.
type Fetcher struct {
	s     settings
	doc   *document
	order []string
	provs map[string]*provider

	keys      coalesce.Group[*httpget.Result]
	discovery coalesce.Group[string]
	changed   chan struct{}
	running   atomic.Bool

	mu              sync.Mutex
	published       []byte
	publishes       uint64
	publishFailures uint64

	bundles bundleIssuer // the signed key bundle in force (bundle.go)
}

// provider is one fetched provider. Fields below mu are guarded by
// Fetcher.mu; the rest are fixed after New.
type provider struct {
	name     string
	cfg      providerConfig
	client   *http.Client
	opts     httpget.Options
	pol      policy
	identity string // transport identity, part of the coalescing key
	kick     chan struct{}

	uri                            string // resolved key set URL
	etag                           string
	jwks                           json.RawMessage // nil: no key set in force
	kids                           []string
	warnings                       []string
	lastSuccess, lastChange        time.Time
	lastError                      string
	failures                       int
	fetches, fetchFailures, notMod uint64
	lastOnDemand                   time.Time
	pending                        []string
	started, completed             uint64        // refreshes of this provider begun and ended
	onDemand                       uint64        // the refresh (by started count) the last on-demand request waits for
	ended                          chan struct{} // closed, and replaced, when a refresh ends
	unknown                        map[string]time.Time
	refreshes                      map[RefreshOutcome]uint64
}

// New parses config (the JSON of docs/configuration.md) and prepares a fetcher for every
// provider without an inline "jwks". It fails when the configuration or a
// provider's "fetch" object is invalid, naming the field.
func New(config []byte, opts ...Option) (*Fetcher, error) {
	s := defaultSettings()
	for _, o := range opts {
		o(&s)
	}
	if s.maxStale <= 0 || s.onDemandInterval <= 0 || s.unknownKidTTL <= 0 {
		return nil, errors.New("jwksfetch: max stale, on-demand interval and unknown-kid TTL must be positive")
	}
	doc, err := parseDocument(config)
	if err != nil {
		return nil, err
	}
	f := &Fetcher{s: s, doc: doc, order: doc.fetched, provs: map[string]*provider{}, changed: make(chan struct{}, 1)}
	for _, name := range doc.fetched {
		cfg := doc.configs[name]
		pol, err := cfg.Fetch.policy(&s)
		if err != nil {
			return nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
		}
		p := &provider{
			name:      name,
			cfg:       cfg,
			client:    s.client,
			opts:      httpget.Options{MaxBytes: s.maxBytes, InsecureAllowHTTP: cfg.Fetch.AllowInsecureHTTP},
			pol:       pol,
			kick:      make(chan struct{}, 1),
			unknown:   map[string]time.Time{},
			ended:     make(chan struct{}),
			refreshes: map[RefreshOutcome]uint64{},
		}
		if cfg.Fetch.hasTransportSettings() {
			if p.client, err = cfg.Fetch.client(); err != nil {
				return nil, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
			}
			p.identity = fmt.Sprintf("%+v", cfg.Fetch)
		}
		if cfg.JWKSURI != "" {
			if err := httpget.CheckURL(cfg.JWKSURI, cfg.Fetch.AllowInsecureHTTP); err != nil {
				return nil, fmt.Errorf("jwksfetch: providers.%s.jwks_uri: %w", name, err)
			}
		}
		f.provs[name] = p
	}
	return f, nil
}

// Run fetches every key set, publishes the first rendered configuration
// once each provider has had its first fetch, and then keeps refreshing and
// publishing until ctx is cancelled. It returns nil after a cancellation,
// once every goroutine it started has stopped. Run may be called only once.
func (f *Fetcher) Run(ctx context.Context) error {
	if !f.running.CompareAndSwap(false, true) {
		return errors.New("jwksfetch: Run was already called on this Fetcher")
	}
	var wg sync.WaitGroup
	var first sync.WaitGroup
	first.Add(len(f.order))
	for _, name := range f.order {
		p := f.provs[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.loop(ctx, p, first.Done)
		}()
	}
	ready := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		first.Wait()
		close(ready)
	}()
	f.publishLoop(ctx, ready)
	wg.Wait()
	return nil
}

func (f *Fetcher) loop(ctx context.Context, p *provider, firstDone func()) {
	next := f.refreshLogged(ctx, p)
	firstDone()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-f.s.clock.After(next):
		}
		next = f.refreshLogged(ctx, p)
	}
}

func (f *Fetcher) refreshLogged(ctx context.Context, p *provider) time.Duration {
	next, warnings, changed, err := f.refresh(ctx, p)
	if changed {
		for _, w := range warnings {
			f.s.logger.Warn("jwksfetch: key skipped", "provider", p.name, "warning", w)
		}
	}
	if err != nil && ctx.Err() == nil {
		f.s.logger.Warn("jwksfetch: key set fetch failed", "provider", p.name, "error", err, "retry_in", next)
	}
	return next
}

// refresh fetches p's key set once and updates p. It returns when to fetch
// next, the warnings about the set, and whether the set in force changed.
func (f *Fetcher) refresh(ctx context.Context, p *provider) (next time.Duration, warnings []string, changed bool, err error) {
	f.mu.Lock()
	uri, etag := p.uri, p.etag
	if p.jwks == nil {
		etag = ""
	}
	pending := p.pending
	p.pending = nil
	p.started++
	f.mu.Unlock()

	res, uri, err := f.get(ctx, p, uri, etag)
	var jwks json.RawMessage
	var kids []string
	if err == nil && !res.NotModified {
		jwks, kids, warnings, err = usableKeys(res.Body, f.s.maxKeys)
		if err != nil {
			err = fmt.Errorf("key set from %s: %w", uri, err)
		}
	}
	if err != nil && ctx.Err() != nil {
		f.mu.Lock()
		p.end()
		f.mu.Unlock()
		return 0, warnings, false, err
	}

	now := f.s.clock.Now()
	window := refresh.Window{Default: p.pol.interval, Min: p.pol.min, Max: p.pol.max}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer p.end()
	p.fetches++
	if err != nil {
		p.fetchFailures++
		p.failures++
		p.lastError = err.Error()
		if p.cfg.JWKSURI == "" {
			p.uri = "" // discover again: the provider may have moved its keys
		}
		next = window.Backoff(p.failures, f.s.rand)
		if p.jwks != nil {
			if left := p.lastSuccess.Add(p.pol.maxStale).Sub(now); left <= 0 {
				f.s.logger.Error("jwksfetch: key set withdrawn: no successful fetch within max_stale; the plugin answers this provider's tokens with 503 until a fetch succeeds",
					"provider", p.name, "max_stale", p.pol.maxStale, "last_success", p.lastSuccess, "removed", p.kids)
				p.jwks, p.kids, p.etag, p.lastChange = nil, nil, "", now
				changed = true
				f.signal()
			} else if left < next {
				next = left
			}
		}
	} else {
		p.failures = 0
		p.lastError = ""
		p.lastSuccess = now
		p.uri = uri
		if res.NotModified {
			p.notMod++
		} else {
			p.etag = res.ETag
			p.warnings = warnings
			if !bytes.Equal(jwks, p.jwks) {
				added, removed := kidDiff(p.kids, kids)
				f.s.logger.Info("jwksfetch: key set changed", "provider", p.name, "added", added, "removed", removed, "keys", len(kids))
				p.jwks, p.kids, p.lastChange = jwks, kids, now
				changed = true
				f.signal()
			}
		}
		next = window.Interval(res.Header)
	}
	for _, kid := range pending {
		if !contains(p.kids, kid) {
			f.rememberUnknown(p, kid, now)
		}
	}
	return next, p.warnings, changed, err
}

// get resolves p's key set URL (discovering it when needed) and fetches it,
// coalescing identical requests of concurrent callers.
func (f *Fetcher) get(ctx context.Context, p *provider, uri, etag string) (*httpget.Result, string, error) {
	if uri == "" {
		uri = p.cfg.JWKSURI
	}
	if uri == "" {
		var err error
		uri, err, _ = f.discovery.Do(p.cfg.Issuer+"\x00"+p.identity, func() (string, error) {
			return discovery.JWKSURI(ctx, p.client, p.cfg.Issuer, p.opts)
		})
		if err != nil {
			return nil, "", err
		}
	}
	o := p.opts
	o.ETag = etag
	res, err, _ := f.keys.Do(uri+"\x00"+etag+"\x00"+p.identity, func() (*httpget.Result, error) {
		return httpget.Get(ctx, p.client, uri, o)
	})
	return res, uri, err
}

// end records that a refresh of p ended and wakes those waiting for it
// (RefreshKeys). The caller holds f.mu.
func (p *provider) end() {
	p.completed++
	close(p.ended)
	p.ended = make(chan struct{})
}

func (f *Fetcher) signal() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// render returns the configuration with the key sets now in force. The
// caller holds f.mu.
func (f *Fetcher) render() ([]byte, error) {
	sets := make(map[string]json.RawMessage, len(f.provs))
	for name, p := range f.provs {
		if p.jwks != nil {
			sets[name] = p.jwks
		}
	}
	return f.doc.render(sets)
}

// Config returns the configuration with the key sets now in force: the
// providers whose key set is not available have no "jwks".
func (f *Fetcher) Config() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.render()
}

func (f *Fetcher) publishLoop(ctx context.Context, ready <-chan struct{}) {
	select {
	case <-ctx.Done():
		return
	case <-ready:
	}
	last := make([][]byte, len(f.s.sinks))
	var retry <-chan time.Time
	for {
		f.mu.Lock()
		cfg, err := f.render()
		f.mu.Unlock()
		retry = nil
		if err != nil {
			f.s.logger.Error("jwksfetch: rendering the configuration failed", "error", err)
		} else {
			failed := false
			for i, sink := range f.s.sinks {
				if bytes.Equal(last[i], cfg) {
					continue
				}
				if err := sink.Publish(ctx, cfg); err != nil {
					if ctx.Err() != nil {
						return
					}
					failed = true
					f.mu.Lock()
					f.publishFailures++
					f.mu.Unlock()
					f.s.logger.Error("jwksfetch: a sink refused the configuration; retrying", "sink", fmt.Sprintf("%T", sink), "error", err, "retry_in", publishRetry)
					continue
				}
				last[i] = cfg
			}
			f.mu.Lock()
			if !failed && !bytes.Equal(f.published, cfg) {
				f.published = cfg
				f.publishes++
			}
			f.mu.Unlock()
			if failed {
				retry = f.s.clock.After(publishRetry)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-f.changed:
		case <-retry:
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
