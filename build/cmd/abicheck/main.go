// Command abicheck fails unless a Proxy-Wasm module fits Envoy's host: every
// import must be one the host provides with the same signature, the ABI
// v0.2.1 marker and the entry points must be exported, and no export may be
// named malloc (Envoy would prefer it to proxy_on_memory_allocate).
//
//	go run ./build/cmd/abicheck build/out/tokengate.wasm
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/build/internal/wasmabi"
)

// Required are the exports every tokengate module must have.
var required = []string{"_initialize", "memory", "proxy_abi_version_0_2_1", "proxy_on_memory_allocate",
	"proxy_on_context_create", "proxy_on_configure", "proxy_on_request_headers"}

func main() {
	hostPath := flag.String("host", "", "the host's function list (module, name, params, results); default: Envoy's, embedded from build/envoy/host-imports.tsv")
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
	if err := run(*hostPath, flag.Arg(0), *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "abicheck:", err)
		os.Exit(1)
	}
}

func run(hostPath, modulePath string, verbose bool) error {
	tsv, hostName := envoy.HostImports, "Envoy's host functions"
	if hostPath != "" {
		var err error
		if tsv, err = os.ReadFile(hostPath); err != nil {
			return err
		}
		hostName = hostPath
	}
	host, err := wasmabi.ParseHostTSV(tsv)
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(modulePath)
	if err != nil {
		return err
	}
	m, err := wasmabi.Parse(wasm)
	if err != nil {
		return fmt.Errorf("%s: %w", modulePath, err)
	}
	if verbose {
		for _, im := range m.Imports {
			fmt.Printf("import %s.%s (%s) -> (%s)\n", im.Module, im.Name, im.Params, im.Results)
		}
		for _, ex := range m.Exports {
			fmt.Printf("export %s %s\n", ex.Kind, ex.Name)
		}
	}
	problems := wasmabi.Check(m, host)
	problems = append(problems, wasmabi.RequireExports(m, required...)...)
	problems = append(problems, wasmabi.ForbidExports(m, "malloc", "_start")...)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s does not fit the host in %s: %d problem(s)", modulePath, hostName, len(problems))
	}
	fmt.Printf("%s: %d imports, all provided by %s; required exports present\n", modulePath, len(m.Imports), hostName)
	return nil
}
