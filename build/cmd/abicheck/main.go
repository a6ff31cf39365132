// Command abicheck fails unless a Proxy-Wasm module fits Envoy's host: every
// import must be one the host provides with the same signature, the ABI
// v0.2.1 marker and the entry points must be exported, and no export may be
// named malloc (Envoy would prefer it to proxy_on_memory_allocate) or be a
// callback the plugin has no use for.
//
// Without -host it checks the module against every supported Envoy: the
// oldest (1.33–1.38) and the newest (≥ 1.39), whose lists
// internal/envoyabi owns and the Go host links, because one tokengate.wasm
// is loaded by all of them.
//
//	go run ./build/cmd/abicheck build/out/tokengate.wasm
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tokengate/tokengate/build/internal/wasmabi"
	"github.com/tokengate/tokengate/internal/envoyabi"
)

// Required are the exports every tokengate module must have.
var required = []string{"_initialize", "memory", "proxy_abi_version_0_2_1", "proxy_on_memory_allocate",
	"proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers"}

// Forbidden are exports no tokengate module may have: malloc (Envoy would
// prefer it to proxy_on_memory_allocate), _start (a command, not a reactor),
// and callbacks the plugin has no use for. Envoy calls every callback a
// module exports, per request or body chunk, and each call into a stock-Go
// module costs microseconds (RATIONALE.md, "Why our own Proxy-Wasm
// binding"). proxy_on_tick is allowed: it runs once a second per VM, not per
// request, and flushes the counters the plugin batches.
var forbidden = []string{"malloc", "_start",
	"proxy_on_request_body", "proxy_on_request_trailers", "proxy_on_response_headers", "proxy_on_response_body",
	"proxy_on_response_trailers", "proxy_on_log", "proxy_on_done", "proxy_on_queue_ready"}

func main() {
	hostPath := flag.String("host", "", "one host's function list (module, name, params, results); default: every supported Envoy's, embedded from internal/envoyabi/host-imports*.tsv")
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
	hosts := envoyabi.Lists()
	if hostPath != "" {
		tsv, err := os.ReadFile(hostPath)
		if err != nil {
			return fmt.Errorf("reading the host list: %w", err)
		}
		funcs, err := envoyabi.Parse(tsv)
		if err != nil {
			return fmt.Errorf("%s: %w", hostPath, err)
		}
		hosts = []envoyabi.List{{Name: "-host", File: hostPath, TSV: tsv, Funcs: funcs}}
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
	problems = append(problems, wasmabi.ForbidExports(m, forbidden...)...)
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	exportProblems := len(problems)
	var unfit []string
	for _, h := range hosts {
		missing := wasmabi.Check(m, wasmabi.NewHost(h.Funcs))
		for _, p := range missing {
			fmt.Fprintf(stderr, "%s: %s\n", h, p)
		}
		if len(missing) > 0 {
			unfit = append(unfit, h.String())
		}
		problems = append(problems, missing...)
	}
	if len(unfit) == 0 && exportProblems > 0 {
		return fmt.Errorf("%s: %d export problem(s): a required callback is missing, or one is exported that Envoy would "+
			"call for nothing; export only what the plugin uses (plugin/internal/proxywasm/exports.go)", modulePath, exportProblems)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s does not fit %v: %d problem(s); an import outside a host's list makes that Envoy refuse the module "+
			"(find what pulls it in with `go build -ldflags=-dumpdep`)", modulePath, unfit, len(problems))
	}
	for _, h := range hosts {
		fmt.Fprintf(stdout, "%s: %d imports, all provided by %s; required exports present\n", modulePath, len(m.Imports), h)
	}
	return nil
}
