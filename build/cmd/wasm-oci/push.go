package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

func push(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("push", "push [flags] REF", stderr)
	file := fs.String("file", "build/out/tokengate.wasm", "the Wasm module to publish")
	format := fs.String("format", string(wasmoci.FormatCompat), "image layout: compat (Istio, one tar+gzip layer with plugin.wasm), oci (solo.io two-layer image) or wasm (CNCF Wasm OCI artifact; Istio does not load it)")
	source := fs.String("source", "", "source repository URL (annotation org.opencontainers.image.source)")
	revision := fs.String("revision", "", "source revision, e.g. the git commit (org.opencontainers.image.revision)")
	version := fs.String("version", "", "version, e.g. the git tag (org.opencontainers.image.version)")
	created := fs.String("created", "", "creation time, RFC 3339 (e.g. 2026-01-02T03:04:05Z); use the commit time so that the digest is reproducible")
	epoch := fs.String("source-date-epoch", "", "creation time as Unix seconds, e.g. $(git log -1 --format=%ct); default $SOURCE_DATE_EPOCH. Without --created or this, no creation time is recorded")
	expect := fs.String("expect-digest", "", "refuse to push unless the built manifest has this digest (reproducibility check)")
	dryRun := fs.Bool("dry-run", false, "build the image and print its digest without contacting a registry")
	plainHTTP := fs.Bool("plain-http", false, "talk to the registry over plain HTTP (local registries only)")
	printPlugin := fs.Bool("print-wasmplugin", false, "after the push, print the Istio WasmPlugin that pins the pushed digest")
	sf := addSnippetFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	ref, err := oneRef(fs, pos, stderr)
	if err != nil {
		return err
	}

	f, err := wasmoci.ParseFormat(*format)
	if err != nil {
		return err
	}
	when, err := creationTime(*created, *epoch, getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	module, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("reading the module: %w (build it with `make wasm`, or pass --file)", err)
	}
	opts := []wasmoci.Option{
		wasmoci.WithSource(*source), wasmoci.WithRevision(*revision), wasmoci.WithVersion(*version),
		wasmoci.WithRootID(*sf.rootID),
	}
	if !when.IsZero() {
		opts = append(opts, wasmoci.WithCreated(when))
	}
	a, err := wasmoci.Build(module, f, opts...)
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}

	if *dryRun {
		if *expect != "" && "sha256:"+strings.TrimPrefix(*expect, "sha256:") != a.Digest() {
			return fmt.Errorf("%w: built %s, expected %s", wasmoci.ErrDigestMismatch, a.Digest(), *expect)
		}
		fmt.Fprintf(stderr, "built %s image of %s (module sha256 %s), not pushed\n", f, *file, wasmoci.SHA256(module))
		fmt.Fprintln(stdout, a.Digest())
		if *printPlugin {
			return writeSnippet(stdout, sf, ref, a.Digest())
		}
		return nil
	}
	var ropts []wasmoci.RemoteOption
	if *plainHTTP {
		ropts = append(ropts, wasmoci.WithPlainHTTP())
	}
	if *expect != "" {
		ropts = append(ropts, wasmoci.WithDigest(*expect))
	}
	digest, err := wasmoci.Push(ctx, ref, a, ropts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "pushed %s image of %s to %s (module sha256 %s)\n", f, *file, ref, wasmoci.SHA256(module))
	fmt.Fprintln(stdout, digest)
	if *printPlugin {
		if f == wasmoci.FormatWasm {
			fmt.Fprintln(stderr, "note: Istio does not load the wasm (CNCF) format; push --format compat for a WasmPlugin")
		}
		return writeSnippet(stdout, sf, ref, digest)
	}
	return nil
}

// creationTime reads --created or --source-date-epoch, falling back to
// $SOURCE_DATE_EPOCH. It returns the zero time when none is set.
func creationTime(created, epoch, envEpoch string) (time.Time, error) {
	if created != "" && epoch != "" {
		return time.Time{}, fmt.Errorf("pass --created or --source-date-epoch, not both")
	}
	if created != "" {
		t, err := time.Parse(time.RFC3339, created)
		if err != nil {
			return time.Time{}, fmt.Errorf("--created %q is not an RFC 3339 time like 2026-01-02T03:04:05Z: %w", created, err)
		}
		return t, nil
	}
	what := "--source-date-epoch"
	if epoch == "" {
		epoch, what = envEpoch, "$SOURCE_DATE_EPOCH"
	}
	if epoch == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("%s %q is not a non-negative number of seconds since 1970 (try $(git log -1 --format=%%ct))", what, epoch)
	}
	return time.Unix(n, 0).UTC(), nil
}
