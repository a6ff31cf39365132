package testhooks

import (
	"fmt"
	"testing"
)

func TestUnwrap(t *testing.T) {
	const inner = `{"realm": "api", "providers": {}}`
	tests := []struct {
		name       string
		config     string
		want       string
		panicPath  string
		trapPath   string
		enabled    bool
		panicsWith string
	}{
		{name: "a configuration without test_hooks is used as it is", config: inner, want: inner},
		{name: "the configuration inside config is returned", config: `{"test_hooks": {}, "config": ` + inner + `}`, want: inner},
		{name: "request hooks are read", config: `{"test_hooks": {"panic_on_request": "/panic", "trap_on_request": "/trap"}, "config": ` + inner + `}`,
			want: inner, panicPath: "/panic", trapPath: "/trap", enabled: true},
		{name: "the stats path alone enables the hooks", config: `{"test_hooks": {"stats_path": "/stats"}, "config": ` + inner + `}`,
			want: inner, enabled: true},
		{name: "panic_on_configure panics while configuring", config: `{"test_hooks": {"panic_on_configure": true}, "config": ` + inner + `}`,
			panicsWith: "test hook: panic_on_configure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []byte
			var h Hooks
			r := panicOf(func() { got, h = Unwrap([]byte(tt.config)) })
			if r != tt.panicsWith {
				t.Fatalf("panicked with %q, want %q", r, tt.panicsWith)
			}
			if tt.panicsWith != "" {
				return
			}
			if string(got) != tt.want || h.panicPath != tt.panicPath || h.trapPath != tt.trapPath || h.Enabled() != tt.enabled {
				t.Fatalf("got %s %+v (enabled %v), want %s panic %q trap %q (enabled %v)", got, h, h.Enabled(), tt.want, tt.panicPath, tt.trapPath, tt.enabled)
			}
		})
	}
}

// panicOf runs f and returns what it panicked with, "" if it returned.
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestOnRequestPanicsOnlyOnItsPath(t *testing.T) {
	h := Hooks{panicPath: "/panic"}
	tests := []struct {
		name    string
		headers [][2]string
		panics  bool
	}{
		{"the named path panics", [][2]string{{":method", "GET"}, {":path", "/panic"}}, true},
		{"another path passes", [][2]string{{":path", "/panic/x"}}, false},
		{"a header that is not :path does not count", [][2]string{{"x-path", "/panic"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := panicOf(func() { h.OnRequest(tt.headers) }); (r != "") != tt.panics {
				t.Fatalf("panicked with %q, want a panic: %v", r, tt.panics)
			}
		})
	}
}

func TestStats(t *testing.T) {
	h := Hooks{statsPath: "/stats"}
	tests := []struct {
		name    string
		hooks   Hooks
		headers [][2]string
		want    bool
	}{
		{"the stats path asks for stats", h, [][2]string{{":method", "GET"}, {":path", "/stats"}}, true},
		{"another path does not", h, [][2]string{{":path", "/stats/x"}}, false},
		{"without a stats path nothing does", Hooks{}, [][2]string{{":path", ""}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.hooks.IsStats(tt.headers); got != tt.want {
				t.Fatalf("IsStats = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("the stats line reads back", func(t *testing.T) {
		m, c, ok := ParseStats(string(AppendStats(nil, 12345, 67)))
		if !ok || m != 12345 || c != 67 {
			t.Fatalf("ParseStats = %d, %d, %v; want 12345, 67, true", m, c, ok)
		}
		if _, _, ok := ParseStats("test hook: stats mallocs=x host_calls=1"); ok {
			t.Fatal("ParseStats accepted a malformed line")
		}
	})
}
