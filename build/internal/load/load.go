package load

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one load run. Exactly one of Requests or Duration must be
// positive.
type Config struct {
	URL            string
	Concurrency    int
	Requests       int           // total requests; 0 means run for Duration
	Duration       time.Duration // wall-clock limit when Requests is 0
	Authorizations []string      // Authorization values used round-robin; empty sends none
	Client         *http.Client  // optional; default uses keep-alive sized to Concurrency
}

// Result summarises a run.
type Result struct {
	Requests   int           `json:"requests"`
	Errors     int           `json:"errors"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	RPS        float64       `json:"rps"`
	P50        time.Duration `json:"p50_ns"`
	P90        time.Duration `json:"p90_ns"`
	P99        time.Duration `json:"p99_ns"`
	StatusCode map[int]int   `json:"status_codes"`
	FirstError string        `json:"first_error,omitempty"`
}

// ReadAuthorizations reads one Authorization value per non-empty line.
func ReadAuthorizations(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.New("load: cannot open authorization file: " + err.Error())
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errors.New("load: reading authorization file: " + err.Error())
	}
	if len(out) == 0 {
		return nil, errors.New("load: authorization file " + path + " has no values; write one per line")
	}
	return out, nil
}

// Run executes the load described by cfg.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.URL == "" {
		return Result{}, errors.New("load: URL is empty; give the target URL")
	}
	if cfg.Concurrency <= 0 {
		return Result{}, errors.New("load: concurrency must be at least 1")
	}
	if (cfg.Requests > 0) == (cfg.Duration > 0) {
		return Result{}, errors.New("load: set exactly one of a request count or a duration")
	}
	client := cfg.Client
	if client == nil {
		tr := &http.Transport{
			MaxIdleConns:        cfg.Concurrency,
			MaxIdleConnsPerHost: cfg.Concurrency,
			DisableCompression:  true,
		}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}

	var next atomic.Int64
	type workerResult struct {
		lat      []time.Duration
		codes    map[int]int
		errs     int
		firstErr string
	}
	results := make([]workerResult, cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func(wr *workerResult) {
			defer wg.Done()
			wr.codes = map[int]int{}
			for {
				n := next.Add(1) - 1
				if cfg.Requests > 0 && n >= int64(cfg.Requests) {
					return
				}
				if ctx.Err() != nil {
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL, nil)
				if err != nil {
					wr.errs++
					wr.firstErr = err.Error()
					return
				}
				if len(cfg.Authorizations) > 0 {
					req.Header.Set("Authorization", cfg.Authorizations[int(n%int64(len(cfg.Authorizations)))])
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() != nil && cfg.Duration > 0 {
						return // the deadline cut this request short; not a server error
					}
					wr.errs++
					if wr.firstErr == "" {
						wr.firstErr = err.Error()
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				wr.lat = append(wr.lat, time.Since(t0))
				wr.codes[resp.StatusCode]++
			}
		}(&results[w])
	}
	wg.Wait()
	elapsed := time.Since(start)

	res := Result{StatusCode: map[int]int{}, Elapsed: elapsed}
	var all []time.Duration
	for _, wr := range results {
		all = append(all, wr.lat...)
		res.Errors += wr.errs
		if res.FirstError == "" {
			res.FirstError = wr.firstErr
		}
		for c, k := range wr.codes {
			res.StatusCode[c] += k
		}
	}
	res.Requests = len(all)
	if elapsed > 0 {
		res.RPS = float64(res.Requests) / elapsed.Seconds()
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.P50, res.P90, res.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	return res, nil
}

// percentile returns the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
