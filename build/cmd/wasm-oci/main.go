package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `wasm-oci publishes a Wasm module to an OCI registry and fetches it back.

Usage:
  wasm-oci push    [flags] REF   build the image, push it, print its manifest digest
  wasm-oci pull    [flags] REF   fetch, verify and write the module (-o FILE)
  wasm-oci inspect [flags] REF   print the manifest, the format and the module's sha256
  wasm-oci snippet [flags]       print the Istio WasmPlugin for a pushed image

REF is REGISTRY/REPOSITORY:TAG or REGISTRY/REPOSITORY@sha256:HEX (an oci://
prefix is accepted). Credentials come from the Docker config file
($DOCKER_CONFIG/config.json or ~/.docker/config.json, as docker login writes
it). Run "wasm-oci COMMAND --help" for the flags of a command.
`

// run is the whole program; it returns the exit code: 0 success, 1 failure,
// 2 usage error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "push":
		err = push(ctx, args[1:], getenv, stdout, stderr)
	case "pull":
		err = pull(ctx, args[1:], stdout, stderr)
	case "inspect":
		err = inspect(ctx, args[1:], stdout, stderr)
	case "snippet":
		err = snippet(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "wasm-oci: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "wasm-oci:", err)
		return 1
	}
}

// errUsage reports a command line that was already explained on stderr.
var errUsage = errors.New("usage error")

// parse parses fs from args, allowing flags after the positional arguments
// ("push REF --format oci"), and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a flag set that prints its usage to stderr and reports
// errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wasm-oci %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// oneRef returns the single positional argument or explains the usage.
func oneRef(fs *flag.FlagSet, pos []string, stderr io.Writer) (string, error) {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "wasm-oci %s: want exactly one image reference, got %d arguments\n", fs.Name(), len(pos))
		fs.Usage()
		return "", errUsage
	}
	return pos[0], nil
}
