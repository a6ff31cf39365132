// Package load drives a fixed-concurrency HTTP load against a loopback server
// and summarises throughput, latency percentiles and status codes.
//
// Latency is measured per request from send to response body drained, so the
// figures suffer from coordinated omission: a stalled server delays the next
// request instead of being charged for it. That is acceptable for comparing
// proxy configurations side by side on the same machine.
//
//	res, err := load.Run(ctx, load.Config{
//		URL:         "http://127.0.0.1:10000/",
//		Concurrency: 16,
//		Requests:    10000,
//		Authorizations: []string{"Bearer " + token},
//	})
package load
