package ecds

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const template = `{
  "name": "tokengate",
  "root_id": "tokengate",
  "vm_config": {
    "runtime": "envoy.wasm.runtime.v8",
    "code": {"local": {"filename": "/etc/envoy/tokengate.wasm"}}
  }
}`

// decode parses an ECDS file and returns its version and plugin configuration.
func decode(t *testing.T, data []byte) (string, string) {
	t.Helper()
	var resp discoveryv3.DiscoveryResponse
	if err := protojson.Unmarshal(data, &resp); err != nil {
		t.Fatalf("not a DiscoveryResponse: %v\n%s", err, data)
	}
	if resp.TypeUrl != resourcev3.ExtensionConfigType || len(resp.Resources) != 1 {
		t.Fatalf("type %q, %d resources", resp.TypeUrl, len(resp.Resources))
	}
	var tec corev3.TypedExtensionConfig
	if err := resp.Resources[0].UnmarshalTo(&tec); err != nil {
		t.Fatal(err)
	}
	var w wasmfilterv3.Wasm
	if err := tec.TypedConfig.UnmarshalTo(&w); err != nil {
		t.Fatal(err)
	}
	var conf wrapperspb.StringValue
	if err := w.Config.Configuration.UnmarshalTo(&conf); err != nil {
		t.Fatal(err)
	}
	if tec.Name != "tokengate" || w.Config.RootId != "tokengate" || w.Config.GetVmConfig().GetCode().GetLocal().GetFilename() != "/etc/envoy/tokengate.wasm" {
		t.Fatalf("template not applied: %v", &tec)
	}
	return resp.VersionInfo, conf.Value
}

func TestFileSink(t *testing.T) {
	t.Parallel()
	tmpl, err := ParseTemplate([]byte(template))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sink := &FileSink{Path: filepath.Join(dir, "tokengate.json"), Name: "tokengate", Template: tmpl}

	if err := sink.Publish(context.Background(), []byte(`{"providers":{"a":{}}}`)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(sink.Path)
	if err != nil {
		t.Fatal(err)
	}
	v1, conf := decode(t, data)
	if conf != `{"providers":{"a":{}}}` {
		t.Fatalf("configuration = %s", conf)
	}
	t.Run("a new configuration gets a new version and replaces the file", func(t *testing.T) {
		if err := sink.Publish(context.Background(), []byte(`{"providers":{"b":{}}}`)); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(sink.Path)
		v2, conf := decode(t, data)
		if v2 == v1 || conf != `{"providers":{"b":{}}}` {
			t.Fatalf("version %s -> %s, configuration %s", v1, v2, conf)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("temporary files left behind: %v", entries)
		}
	})
	t.Run("the same configuration keeps its version", func(t *testing.T) {
		a, _ := Resource("tokengate", tmpl, []byte("x"))
		b, _ := Resource("tokengate", tmpl, []byte("x"))
		va, _ := Version(a)
		vb, _ := Version(b)
		if va != vb {
			t.Fatalf("versions differ: %s %s", va, vb)
		}
	})
	t.Run("a write into a missing directory fails and leaves nothing", func(t *testing.T) {
		bad := &FileSink{Path: filepath.Join(dir, "missing", "x.json"), Name: "tokengate", Template: tmpl}
		if err := bad.Publish(context.Background(), []byte("{}")); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestParseTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "a template with configuration is refused", in: `{"vm_config":{"runtime":"envoy.wasm.runtime.v8","code":{"local":{"filename":"x"}}},"configuration":{"@type":"type.googleapis.com/google.protobuf.StringValue","value":"{}"}}`, want: "must not set"},
		{name: "a template without vm_config is refused", in: `{"name":"x"}`, want: "vm_config"},
		{name: "a template with unknown fields is refused", in: `{"nmae":"x"}`, want: "not a JSON"},
		{name: "garbage is refused", in: `name: x`, want: "not a JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseTemplate([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestWriteFileIsOwnerOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing os.FileMode // 0: no file at the path before
	}{
		{name: "a new file is 0600"},
		{name: "a world-readable file it replaces ends 0600", existing: 0o644},
		{name: "a world-writable file it replaces ends 0600", existing: 0o666},
		{name: "an owner-only file stays 0600", existing: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "rendered.json")
			if tt.existing != 0 {
				if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.existing); err != nil { // past the umask
					t.Fatal(err)
				}
			}
			if err := WriteFile(path, []byte(`{"passphrase":"correct horse battery staple"}`)); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != FileMode {
				t.Fatalf("mode = %v, want %v", got, FileMode)
			}
		})
	}
}
