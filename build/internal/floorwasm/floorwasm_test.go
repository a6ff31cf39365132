package floorwasm

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/internal/wasmabi"
	"github.com/tokengate/tokengate/internal/envoyabi"
	"github.com/tokengate/tokengate/testhost"
)

// TestSameExportsAndImportsAsTokengate holds the floor to tokengate's module:
// the same exports with the same signatures (Envoy calls every callback a
// module exports, so an export more or less changes the cost), imports that
// tokengate imports too, and every import linked by each supported Envoy.
func TestSameExportsAndImportsAsTokengate(t *testing.T) {
	floor, err := wasmabi.Parse(Module())
	if err != nil {
		t.Fatal(err)
	}
	tg, err := wasmabi.Parse(testhost.Wasm(t))
	if err != nil {
		t.Fatal(err)
	}
	exports := func(m *wasmabi.Module) []string {
		var out []string
		for _, e := range m.Exports {
			out = append(out, e.Name+" "+e.Kind+" ("+e.Params+") "+e.Results)
		}
		slices.Sort(out)
		return out
	}
	if got, want := exports(floor), exports(tg); !slices.Equal(got, want) {
		t.Errorf("floor exports\n%s\nwant tokengate's\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, im := range floor.Imports {
		if !slices.Contains(tg.Imports, im) {
			t.Errorf("the floor imports %s.%s (%s) %s, which tokengate does not", im.Module, im.Name, im.Params, im.Results)
		}
	}
	for _, list := range envoyabi.Lists() {
		if p := wasmabi.Check(floor, wasmabi.NewHost(list.Funcs)); len(p) != 0 {
			t.Errorf("%s: %v", list.Name, p)
		}
	}
}

// TestDoesWhatTokengateDoesToAnAcceptedRequest runs the floor in the Go host:
// every request goes upstream without authorization and with x-user set, and
// the counters reach the host every FlushEvery requests and on a tick.
func TestDoesWhatTokengateDoesToAnAcceptedRequest(t *testing.T) {
	var offset time.Duration
	start := time.Now()
	th := testhost.New(t, `{}`, testhost.WithWasm(Module()), testhost.WithClock(func() time.Time { return start.Add(offset) }))
	req := testhost.Request{Method: "GET", Path: "/v1/score", Headers: [][2]string{{"authorization", "Bearer " + strings.Repeat("x", 700)}, {"x-user", "mallory"}}}
	tests := []struct {
		name     string
		requests int
		tick     bool
		want     int64
	}{
		{"counts wait in the module", FlushEvery - 1, false, 0},
		{"the request that reaches FlushEvery flushes them", 1, false, FlushEvery},
		{"a tick flushes the rest", 3, true, FlushEvery + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range tt.requests {
				res := th.Do(t, req)
				if !res.Continued {
					t.Fatalf("refused: %d", res.Status)
				}
				var users []string
				for _, h := range res.Headers {
					if h[0] == RemovedHeader {
						t.Fatalf("%s went upstream", RemovedHeader)
					}
					if h[0] == SetHeader {
						users = append(users, h[1])
					}
				}
				if !slices.Equal(users, []string{SetValue}) {
					t.Fatalf("%s upstream = %q, want [%q]", SetHeader, users, SetValue)
				}
			}
			if tt.tick {
				offset += TickMillis * time.Millisecond
				if n, _ := th.Tick(t); n != 1 {
					t.Fatalf("%d ticks delivered, want 1", n)
				}
			}
			for _, c := range Counters {
				if got := th.Plugin().Metrics()[c]; got != tt.want {
					t.Errorf("%s = %d, want %d", c, got, tt.want)
				}
			}
		})
	}
}
