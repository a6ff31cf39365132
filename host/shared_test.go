package host_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/testhost"
)

// sharerPkg counts requests in shared data ("hits=N") and registers or
// finds a shared queue ("queue=registered", "queue=found").
const sharerPkg = "github.com/tokengate/tokengate/host/testdata/sharer"

// TestTestHostsAreIsolated runs two testhosts side by side with the
// default vm_id, as two parallel tests of one package do: both are loaded
// before either serves a request, then both serve at once, and each must
// count only its own requests and find only its own queue.
func TestTestHostsAreIsolated(t *testing.T) {
	t.Parallel()
	wasm := testhost.Build(t, sharerPkg)
	hosts := map[string]*testhost.Host{
		"first":  testhost.New(t, "", testhost.WithWasm(wasm)),
		"second": testhost.New(t, "", testhost.WithWasm(wasm)),
	}
	for name, th := range hosts {
		t.Run("the "+name+" testhost sees only its own shared data and queues", func(t *testing.T) {
			t.Parallel()
			for i := 1; i <= 30; i++ {
				queue := "queue=found"
				if i == 1 {
					queue = "queue=registered"
				}
				want := []string{"hits=" + strconv.Itoa(i), queue}
				if got := th.Do(t, testhost.Request{}).Logs; !slices.Equal(got, want) {
					t.Fatalf("request %d logged %q, want %q", i, got, want)
				}
			}
		})
	}
}

// TestWithSharedState loads two plugins and sends one request to each, in
// turn: what the second sees says what they share.
func TestWithSharedState(t *testing.T) {
	t.Parallel()
	wasm := testhost.Build(t, sharerPkg)
	state := func() []host.Option { return []host.Option{host.WithSharedState(host.NewShared())} }
	tests := []struct {
		name          string
		first, second func(shared *host.Shared) []host.Option
		want          []string // what the second plugin's request logs
	}{
		{name: "without it two plugins of one vm_id share nothing",
			first:  func(*host.Shared) []host.Option { return nil },
			second: func(*host.Shared) []host.Option { return nil },
			want:   []string{"hits=1", "queue=registered"}},
		{name: "with one Shared two plugins of one vm_id share data and queues",
			first:  func(s *host.Shared) []host.Option { return []host.Option{host.WithSharedState(s)} },
			second: func(s *host.Shared) []host.Option { return []host.Option{host.WithSharedState(s)} },
			want:   []string{"hits=2", "queue=found"}},
		{name: "with one Shared, plugins of two vm_ids keep their data and queues apart",
			first: func(s *host.Shared) []host.Option { return []host.Option{host.WithSharedState(s)} },
			second: func(s *host.Shared) []host.Option {
				return []host.Option{host.WithSharedState(s), host.WithVMID("other")}
			},
			want: []string{"hits=1", "queue=registered"}},
		{name: "with two Shareds two plugins of one vm_id share nothing",
			first:  func(*host.Shared) []host.Option { return state() },
			second: func(*host.Shared) []host.Option { return state() },
			want:   []string{"hits=1", "queue=registered"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := host.NewShared()
			a := load(t, wasm, tt.first(s)...)
			if got := request(t, a); !slices.Equal(got, []string{"hits=1", "queue=registered"}) {
				t.Fatalf("the first plugin's request logged %q", got)
			}
			b := load(t, wasm, tt.second(s)...)
			if got := request(t, b); !slices.Equal(got, tt.want) {
				t.Fatalf("the second plugin's request logged %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSharedStateGoesWithTheLastPlugin: like Envoy with its last VM of a
// vm_id, the data and queues of a vm_id go when its last plugin closes,
// and stay while one is left.
func TestSharedStateGoesWithTheLastPlugin(t *testing.T) {
	t.Parallel()
	wasm := testhost.Build(t, sharerPkg)
	s := host.NewShared()
	a := load(t, wasm, host.WithSharedState(s))
	b := load(t, wasm, host.WithSharedState(s))
	request(t, a)
	a.Close(context.Background())
	if got := request(t, b); !slices.Equal(got, []string{"hits=2", "queue=found"}) {
		t.Fatalf("with one plugin of the vm_id left, a request logged %q", got)
	}
	b.Close(context.Background())
	c := load(t, wasm, host.WithSharedState(s))
	if got := request(t, c); !slices.Equal(got, []string{"hits=1", "queue=registered"}) {
		t.Fatalf("after the last plugin of the vm_id closed, a request logged %q", got)
	}
}

// TestSharedDataHammer counts concurrent requests on two plugins of one
// vm_id and one Shared, two VMs each: with CAS, no increment is lost.
func TestSharedDataHammer(t *testing.T) {
	t.Parallel()
	wasm := testhost.Build(t, sharerPkg)
	s := host.NewShared()
	plugins := []*host.Plugin{load(t, wasm, host.WithSharedState(s), host.WithPoolSize(2)),
		load(t, wasm, host.WithSharedState(s), host.WithPoolSize(2))}
	const workers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, len(plugins)*workers)
	for _, p := range plugins {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					if _, err := requestErr(p); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := "hits=" + strconv.Itoa(len(plugins)*workers*each+1)
	if got := request(t, plugins[0]); got[0] != want {
		t.Fatalf("after %d concurrent requests the next logged %q, want %s", len(plugins)*workers*each, got, want)
	}
}

func TestWithSharedStateRefusesNil(t *testing.T) {
	t.Parallel()
	for _, s := range []*host.Shared{nil, {}} {
		p, err := host.Load(context.Background(), testhost.Build(t, sharerPkg), host.WithSharedState(s))
		if err == nil {
			p.Close(context.Background())
			t.Fatalf("Load accepted WithSharedState(%v)", s)
		}
	}
}

func load(t *testing.T, wasm []byte, opts ...host.Option) *host.Plugin {
	t.Helper()
	ctx := context.Background()
	p, err := host.Load(ctx, wasm, append([]host.Option{host.WithPoolSize(1), host.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(ctx) })
	if err := p.Configure(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// request sends one request and returns what the guest logged.
func request(t *testing.T, p *host.Plugin) []string {
	t.Helper()
	logs, err := requestErr(p)
	if err != nil {
		t.Fatal(err)
	}
	return logs
}

func requestErr(p *host.Plugin) ([]string, error) {
	s, err := p.NewStream(context.Background())
	if err != nil {
		return nil, fmt.Errorf("starting a stream: %w", err)
	}
	defer s.Close()
	if _, err := s.RequestHeaders([][2]string{{":method", "GET"}, {":path", "/"}}, true); err != nil {
		return nil, fmt.Errorf("request headers: %w", err)
	}
	logs := s.Logs()
	if len(logs) != 2 {
		return nil, errors.New("the guest logged " + strconv.Quote(fmt.Sprint(logs)) + ", want two lines")
	}
	return logs, nil
}
