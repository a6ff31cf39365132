package jwksfetch

import (
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

// DefaultMaxKeys caps the number of keys accepted from one provider.
const DefaultMaxKeys = 100

// Defaults of the refresh policy. A provider's "fetch" object overrides the
// window and max_stale; the options below override these defaults.
const (
	DefaultRefresh          = 5 * time.Minute
	DefaultRefreshMin       = 30 * time.Second
	DefaultRefreshMax       = 24 * time.Hour
	DefaultMaxStale         = 24 * time.Hour
	DefaultOnDemandInterval = 30 * time.Second
	DefaultUnknownKidTTL    = 5 * time.Minute
)

type settings struct {
	client           *http.Client
	maxBytes         int64
	maxKeys          int
	clock            Clock
	logger           *slog.Logger
	sinks            []Sink
	refresh          time.Duration
	refreshMin       time.Duration
	refreshMax       time.Duration
	maxStale         time.Duration
	onDemandInterval time.Duration
	unknownKidTTL    time.Duration
	rand             func() float64

	bundle bundleSettings // key bundles (bundle.go)
}

func defaultSettings() settings {
	return settings{
		client:           &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}},
		maxKeys:          DefaultMaxKeys,
		clock:            systemClock{},
		logger:           slog.Default(),
		refresh:          DefaultRefresh,
		refreshMin:       DefaultRefreshMin,
		refreshMax:       DefaultRefreshMax,
		maxStale:         DefaultMaxStale,
		onDemandInterval: DefaultOnDemandInterval,
		unknownKidTTL:    DefaultUnknownKidTTL,
		rand:             rand.Float64,
	}
}

// Option configures Once and New.
type Option func(*settings)

// WithHTTPClient sets the HTTP client used for discovery and key fetches of
// providers without transport settings of their own. The default has a 10 s
// timeout and takes proxies from the environment.
func WithHTTPClient(c *http.Client) Option { return func(s *settings) { s.client = c } }

// WithMaxBytes caps each response body (default 1 MiB).
func WithMaxBytes(n int64) Option { return func(s *settings) { s.maxBytes = n } }

// WithMaxKeys caps the number of keys per provider (default DefaultMaxKeys).
func WithMaxKeys(n int) Option { return func(s *settings) { s.maxKeys = n } }

// WithClock replaces the wall clock, for tests.
func WithClock(c Clock) Option { return func(s *settings) { s.clock = c } }

// WithLogger sets where key changes, warnings and failures are logged
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.logger = l } }

// WithSink adds a sink that receives every new rendered configuration.
func WithSink(k Sink) Option { return func(s *settings) { s.sinks = append(s.sinks, k) } }

// WithRefreshWindow sets the default refresh interval (used when the
// provider sends no Cache-Control max-age) and the window every interval is
// clamped to. A provider's fetch.refresh_seconds, refresh_min_seconds and
// refresh_max_seconds override them. Zero keeps a default.
func WithRefreshWindow(interval, min, max time.Duration) Option {
	return func(s *settings) {
		if interval > 0 {
			s.refresh = interval
		}
		if min > 0 {
			s.refreshMin = min
		}
		if max > 0 {
			s.refreshMax = max
		}
	}
}

// WithMaxStale sets how long the last good key set of a provider stays in
// force while fetches fail (default 24 h); a provider's
// fetch.max_stale_seconds overrides it. After that the set is withdrawn and
// the plugin answers the provider's tokens with 503.
func WithMaxStale(d time.Duration) Option { return func(s *settings) { s.maxStale = d } }

// WithOnDemandInterval sets how often RequestRefresh may trigger a fetch per
// provider (default 30 s).
func WithOnDemandInterval(d time.Duration) Option {
	return func(s *settings) { s.onDemandInterval = d }
}

// WithUnknownKidTTL sets how long a kid that a refresh did not find is
// remembered; RequestRefresh ignores it meanwhile (default 5 min).
func WithUnknownKidTTL(d time.Duration) Option { return func(s *settings) { s.unknownKidTTL = d } }
