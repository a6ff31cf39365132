package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCallUpstreams: the upstreams the plugin's HTTP calls may name come
// from --call-upstream (repeatable) and the settings file's call_upstreams,
// a flag winning over the file name by name; bad names and URLs are refused.
func TestCallUpstreams(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "proxy.json")
	if err := os.WriteFile(file, []byte(`{"plugin":"p","config":"c","upstream":"http://u",
	  "call_upstreams":{"idp":"https://idp.example.com","other":"http://127.0.0.1:9"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	required := []string{"--plugin", "p", "--config", "c", "--upstream", "http://u"}
	tests := []struct {
		name string
		args []string
		want map[string]string
		err  string
	}{
		{name: "none by default", args: required},
		{name: "flags, repeated", args: append([]string{"--call-upstream", "idp=https://idp.example.com/base", "--call-upstream", "b=http://127.0.0.1:8"}, required...),
			want: map[string]string{"idp": "https://idp.example.com/base", "b": "http://127.0.0.1:8"}},
		{name: "the settings file", args: []string{"--settings", file},
			want: map[string]string{"idp": "https://idp.example.com", "other": "http://127.0.0.1:9"}},
		{name: "a flag replaces the file's upstream of its name", args: []string{"--settings", file, "--call-upstream", "idp=https://127.0.0.1:8443"},
			want: map[string]string{"idp": "https://127.0.0.1:8443", "other": "http://127.0.0.1:9"}},
		{name: "not NAME=URL", args: append([]string{"--call-upstream", "https://idp.example.com"}, required...), err: "is not NAME=URL"},
		{name: "no name", args: append([]string{"--call-upstream", "=https://idp.example.com"}, required...), err: "needs a name"},
		{name: "the fetcher's name", args: append([]string{"--call-upstream", "jwksfetch=http://127.0.0.1:9"}, required...), err: "in-process key fetcher"},
		{name: "a relative URL", args: append([]string{"--call-upstream", "idp=idp.example.com"}, required...), err: "not an absolute http(s) URL"},
		{name: "another scheme", args: append([]string{"--call-upstream", "idp=ftp://idp.example.com"}, required...), err: "not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := parseSettings(tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(map[string]string(st.CallUpstreams), tt.want) {
				t.Fatalf("call upstreams %v, want %v", st.CallUpstreams, tt.want)
			}
			if len(st.CallUpstreams.options()) != len(tt.want) {
				t.Fatalf("%d host options for %d upstreams", len(st.CallUpstreams.options()), len(tt.want))
			}
		})
	}
}
