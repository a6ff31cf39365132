package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

func remoteFlags(plainHTTP bool, digest string) []wasmoci.RemoteOption {
	var o []wasmoci.RemoteOption
	if plainHTTP {
		o = append(o, wasmoci.WithPlainHTTP())
	}
	if digest != "" {
		o = append(o, wasmoci.WithDigest(digest))
	}
	return o
}

func pull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pull", "pull -o FILE [flags] REF", stderr)
	out := fs.String("o", "", "where to write the module (required; - for stdout)")
	digest := fs.String("digest", "", "refuse the image unless its manifest digest is this (sha256:HEX or the HEX of a WasmPlugin's sha256)")
	plainHTTP := fs.Bool("plain-http", false, "talk to the registry over plain HTTP (local registries only)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	ref, err := oneRef(fs, pos, stderr)
	if err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "wasm-oci pull: -o FILE is required")
		fs.Usage()
		return errUsage
	}
	p, err := wasmoci.Pull(ctx, ref, remoteFlags(*plainHTTP, *digest)...)
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err = stdout.Write(p.Module)
	} else {
		err = writeFileAtomic(*out, p.Module)
	}
	if err != nil {
		return fmt.Errorf("writing the module: %w", err)
	}
	fmt.Fprintf(stderr, "pulled %s (%s format, manifest %s) to %s: %d bytes, sha256 %s\n",
		p.Ref, p.Format, p.ManifestDigest, *out, len(p.Module), p.ModuleSHA256())
	return nil
}

// writeFileAtomic writes b to a temporary file beside path and renames it
// into place, so that a reader never sees half a module.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func inspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("inspect", "inspect [flags] REF", stderr)
	digest := fs.String("digest", "", "refuse the image unless its manifest digest is this")
	plainHTTP := fs.Bool("plain-http", false, "talk to the registry over plain HTTP (local registries only)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	ref, err := oneRef(fs, pos, stderr)
	if err != nil {
		return err
	}
	p, err := wasmoci.Pull(ctx, ref, remoteFlags(*plainHTTP, *digest)...)
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, p.Manifest, "", "  "); err != nil {
		return fmt.Errorf("the manifest is not JSON: %w", err)
	}
	fmt.Fprintf(stdout, "reference:       %s\nformat:          %s\nmanifest digest: %s\nmodule sha256:   %s\nmodule size:     %d bytes\nmanifest:\n%s\n",
		p.Ref, p.Format, p.ManifestDigest, p.ModuleSHA256(), len(p.Module), pretty.String())
	return nil
}
