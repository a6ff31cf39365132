// Command abicheck fails unless a Proxy-Wasm module fits Envoy's host: every
// import must be one the host provides with the same signature, the ABI
// v0.2.1 marker and the entry points must be exported, and no export may be
// named malloc (Envoy would prefer it to proxy_on_memory_allocate).
//
// Without -host it checks the module against every supported Envoy: the
// oldest (1.33–1.38, build/envoy/host-imports-1.33.tsv) and the newest
// (≥ 1.39, build/envoy/host-imports.tsv), because one tokengate.wasm is
// loaded by all of them.
//
//	go run ./build/cmd/abicheck build/out/tokengate.wasm
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/build/internal/wasmabi"
)

// Required are the exports every tokengate module must have.
var required = []string{"_initialize", "memory", "proxy_abi_version_0_2_1", "proxy_on_memory_allocate",
	"proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers"}

func main() {
	hostPath := flag.String("host", "", "one host's function list (module, name, params, results); default: every supported Envoy's, embedded from build/envoy/host-imports*.tsv")
	verbose := flag.Bool("v", false, "list the module's imports and exports")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: abicheck [-host FILE] [-v] MODULE.wasm\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdout, os.Stderr, *hostPath, flag.Arg(0), *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "abicheck:", err)
		os.Exit(1)
	}
}

func run(stdout, stderr io.Writer, hostPath, modulePath string, verbose bool) error {
	hosts := envoy.HostLists()
	if hostPath != "" {
		tsv, err := os.ReadFile(hostPath)
		if err != nil {
			return fmt.Errorf("reading the host list: %w", err)
		}
		hosts = []envoy.HostList{{Name: hostPath, TSV: tsv}}
	}
	wasm, err := os.ReadFile(modulePath)
	if err != nil {
		return fmt.Errorf("reading the module (build it with `make wasm`): %w", err)
	}
	m, err := wasmabi.Parse(wasm)
	if err != nil {
		return fmt.Errorf("%s: %w", modulePath, err)
	}
	if verbose {
		for _, im := range m.Imports {
			fmt.Fprintf(stdout, "import %s.%s (%s) -> (%s)\n", im.Module, im.Name, im.Params, im.Results)
		}
		for _, ex := range m.Exports {
			fmt.Fprintf(stdout, "export %s %s\n", ex.Kind, ex.Name)
		}
	}
	problems := wasmabi.RequireExports(m, required...)
	problems = append(problems, wasmabi.ForbidExports(m, "malloc", "_start")...)
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	var unfit []string
	for _, h := range hosts {
		host, err := wasmabi.ParseHostTSV(h.TSV)
		if err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
		missing := wasmabi.Check(m, host)
		for _, p := range missing {
			fmt.Fprintf(stderr, "%s: %s\n", h.Name, p)
		}
		if len(missing) > 0 {
			unfit = append(unfit, h.Name)
		}
		problems = append(problems, missing...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s does not fit %v: %d problem(s); an import outside a host's list makes that Envoy refuse the module "+
			"(find what pulls it in with `go build -ldflags=-dumpdep`)", modulePath, unfit, len(problems))
	}
	for _, h := range hosts {
		fmt.Fprintf(stdout, "%s: %d imports, all provided by %s; required exports present\n", modulePath, len(m.Imports), h.Name)
	}
	return nil
}
