package ecds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	wasmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/wasm/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
)

// Document returns the path-based ECDS file content for res: a
// DiscoveryResponse in proto JSON holding res, versioned by its content.
func Document(res *corev3.TypedExtensionConfig) ([]byte, error) {
	version, err := Version(res)
	if err != nil {
		return nil, err
	}
	packed, err := anypb.New(res)
	if err != nil {
		return nil, fmt.Errorf("ecds: packing the extension config: %w", err)
	}
	resp := &discoveryv3.DiscoveryResponse{
		VersionInfo: version,
		TypeUrl:     resourcev3.ExtensionConfigType,
		Resources:   []*anypb.Any{packed},
	}
	out, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(resp)
	if err != nil {
		return nil, fmt.Errorf("ecds: encoding the discovery response: %w", err)
	}
	return append(out, '\n'), nil
}

// FileMode is the permission of every file WriteFile leaves behind: owner
// read and write only. A rendered configuration may hold secrets (a
// passphrase provider's "passphrase" in clear, or its hash), so it MUST NOT
// be readable by other users; run its reader (Envoy) as the same user.
const FileMode os.FileMode = 0o600

// WriteFile writes data to path atomically: to a temporary file in the same
// directory, synced, then renamed over path, so a watcher such as Envoy's
// path config source sees either the old or the complete new document. The
// temporary file has mode FileMode before any byte is written, and the
// rename replaces whatever was at path, so a file that was 0644 before ends
// 0600 too.
func WriteFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	// CreateTemp already opens with 0600; say so explicitly, so that no
	// change of it, and no umask, can make the content visible to others.
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: restricting the temporary file to the owner: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// FileSink publishes each configuration as a path-based ECDS file.
type FileSink struct {
	Path     string
	Name     string
	Template *wasmv3.PluginConfig
}

// Publish writes the ECDS document for config to s.Path atomically.
func (s *FileSink) Publish(_ context.Context, config []byte) error {
	res, err := Resource(s.Name, s.Template, config)
	if err != nil {
		return err
	}
	doc, err := Document(res)
	if err != nil {
		return err
	}
	return WriteFile(s.Path, doc)
}
