package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/testhost"
)

// TestProxyServesALoadWithoutErrors sends 10,000 requests, allowed and
// denied mixed, at concurrency 32 through a real listener, and requires
// every one to get its expected status with no transport error.
func TestProxyServesALoadWithoutErrors(t *testing.T) {
	total, concurrency := int64(10000), 32
	if raceEnabled {
		total = 2000 // the race detector slows every request tenfold
	}
	ctx := context.Background()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "up:"+r.Header.Get("x-seen"))
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	p, err := host.Load(ctx, testhost.Build(t, "github.com/tokengate/tokengate/host/testdata/guest"),
		host.WithPoolSize(2), host.WithLogger(slog.New(slog.DiscardHandler)), host.WithVMID("load-"+t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	logger := slog.New(slog.DiscardHandler)
	x := newProxy(p, reverseProxy(u, 5*time.Second, logger), logger)
	if err := x.Configure(ctx, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(x)
	defer front.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	var next, transportErrs, wrong atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				path, want := "/x", 200
				if i%3 == 0 {
					path, want = "/deny", 403
				}
				res, err := client.Get(front.URL + path)
				if err != nil {
					transportErrs.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != want {
					wrong.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if transportErrs.Load() != 0 || wrong.Load() != 0 {
		t.Fatalf("%d transport errors, %d wrong statuses in %d requests", transportErrs.Load(), wrong.Load(), total)
	}
	t.Logf("%d requests at concurrency %d in %v: %.0f req/s", total, concurrency, elapsed, float64(total)/elapsed.Seconds())
}

func TestSettingsFileAndFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	file := write("proxy.json", `{"plugin":"p.wasm","config":"c.json","upstream":"http://127.0.0.1:9","listen":"127.0.0.1:1","upstream_timeout":"3s","pool":4,`+
		`"admin_listen":"127.0.0.1:7","trusted_proxies":["10.0.0.0/8","192.0.2.7"]}`)
	adminOff := write("off.json", `{"plugin":"p","config":"c","upstream":"http://u","admin_listen":"off"}`)
	adminEmpty := write("empty.json", `{"plugin":"p","config":"c","upstream":"http://u","admin_listen":""}`)
	badCIDR := write("cidr.json", `{"plugin":"p","config":"c","upstream":"http://u","trusted_proxies":["10.0.0.0/33"]}`)
	bad := write("bad.json", `{"plugins":"typo"}`)
	required := []string{"--plugin", "p", "--config", "c", "--upstream", "http://u"}
	tests := []struct {
		name    string
		args    []string
		listen  string
		admin   string
		trusted []string
		timeout time.Duration
		pprof   bool
		wantErr bool
	}{
		{name: "the settings file supplies every option", args: []string{"--settings", file}, listen: "127.0.0.1:1", admin: "127.0.0.1:7",
			trusted: []string{"10.0.0.0/8", "192.0.2.7"}, timeout: 3 * time.Second},
		{name: "a flag wins over the file", args: []string{"--settings", file, "--listen", "127.0.0.1:2", "--admin-listen", "127.0.0.1:3", "--trusted-proxies", "172.16.0.0/12"},
			listen: "127.0.0.1:2", admin: "127.0.0.1:3", trusted: []string{"172.16.0.0/12"}, timeout: 3 * time.Second},
		{name: "flags alone work, with the admin listener on loopback and no trusted proxy", args: required,
			listen: "127.0.0.1:8080", admin: defaultAdminListen, timeout: time.Minute},
		{name: "--admin-listen off disables the admin listener", args: append([]string{"--admin-listen", "off"}, required...), listen: "127.0.0.1:8080", timeout: time.Minute},
		{name: "an empty --admin-listen disables the admin listener", args: append([]string{"--admin-listen", ""}, required...), listen: "127.0.0.1:8080", timeout: time.Minute},
		{name: "admin_listen off in the file disables the admin listener", args: []string{"--settings", adminOff}, listen: "127.0.0.1:8080", timeout: time.Minute},
		{name: "an empty admin_listen in the file disables the admin listener", args: []string{"--settings", adminEmpty}, listen: "127.0.0.1:8080", timeout: time.Minute},
		{name: "a bad CIDR in --trusted-proxies is an error", args: append([]string{"--trusted-proxies", "10.0.0.0/8,nope"}, required...), wantErr: true},
		{name: "a bad CIDR in the file is an error", args: []string{"--settings", badCIDR}, wantErr: true},
		{name: "an unknown key in the file is an error", args: []string{"--settings", bad}, wantErr: true},
		{name: "missing required options are an error", args: []string{"--plugin", "p"}, wantErr: true},
		{name: "--pprof with the admin listener off is an error", args: append([]string{"--pprof", "--admin-listen", "off"}, required...), wantErr: true},
		{name: "--pprof serves the profiler on the admin listener", args: append([]string{"--pprof"}, required...),
			listen: "127.0.0.1:8080", admin: defaultAdminListen, timeout: time.Minute, pprof: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := parseSettings(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if st.Listen != tc.listen || st.UpstreamTimeout != tc.timeout || st.AdminListen != tc.admin || !slices.Equal(st.TrustedProxies, tc.trusted) {
				t.Errorf("listen %q timeout %v admin %q trusted %q, want %q %v %q %q",
					st.Listen, st.UpstreamTimeout, st.AdminListen, st.TrustedProxies, tc.listen, tc.timeout, tc.admin, tc.trusted)
			}
			if st.Pprof != tc.pprof {
				t.Errorf("pprof %v, want %v (off unless --pprof)", st.Pprof, tc.pprof)
			}
			if len(st.fwd.trusted) != len(tc.trusted) {
				t.Errorf("%d trusted prefixes parsed, want %d", len(st.fwd.trusted), len(tc.trusted))
			}
		})
	}
}
