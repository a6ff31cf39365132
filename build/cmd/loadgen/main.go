// Command loadgen sends a fixed-concurrency HTTP load to a loopback URL and
// prints requests/s, latency percentiles and status-code counts.
//
//	loadgen -url http://127.0.0.1:10000/ -c 16 -n 20000 -auth tokens.txt -json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/tokengate/tokengate/build/internal/load"
)

func main() {
	url := flag.String("url", "", "target URL")
	conc := flag.Int("c", 16, "concurrent keep-alive connections")
	n := flag.Int("n", 0, "total requests (0: use -d)")
	d := flag.Duration("d", 0, "run duration when -n is 0")
	auth := flag.String("auth", "", "file with one Authorization value per line, used round-robin")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	if *n == 0 && *d == 0 {
		*d = 10 * time.Second
	}
	cfg := load.Config{URL: *url, Concurrency: *conc, Requests: *n, Duration: *d}
	if *auth != "" {
		a, err := load.ReadAuthorizations(*auth)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		cfg.Authorizations = a
	}
	res, err := load.Run(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	fmt.Printf("requests %d  errors %d  elapsed %v  %.0f req/s\n", res.Requests, res.Errors, res.Elapsed.Round(time.Millisecond), res.RPS)
	fmt.Printf("latency p50 %v  p90 %v  p99 %v\n", res.P50, res.P90, res.P99)
	codes := make([]int, 0, len(res.StatusCode))
	for c := range res.StatusCode {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		fmt.Printf("status %d: %d\n", c, res.StatusCode[c])
	}
	if res.FirstError != "" {
		fmt.Printf("first error: %s\n", res.FirstError)
	}
}
