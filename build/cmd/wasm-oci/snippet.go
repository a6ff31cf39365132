package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tokengate/tokengate/build/istio"
)

// labels is a repeatable key=value flag.
type labels map[string]string

func (l labels) String() string {
	var kv []string
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func (l labels) Set(s string) error {
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q is not key=value", kv)
		}
		l[k] = v
	}
	return nil
}

// snippetFlags are the WasmPlugin settings shared by snippet and push.
type snippetFlags struct {
	name, namespace, pluginConfig, failStrategy, pullPolicy, rootID *string
	selector                                                        labels
}

func addSnippetFlags(fs *flag.FlagSet) *snippetFlags {
	sf := &snippetFlags{
		name:         fs.String("name", "tokengate", "WasmPlugin metadata.name"),
		namespace:    fs.String("namespace", "istio-system", "WasmPlugin metadata.namespace"),
		pluginConfig: fs.String("plugin-config", "", "tokengate configuration (JSON file) for spec.pluginConfig; default the example in build/istio/wasmplugin.yaml. Give providers inline keys, e.g. from jwksfetch --once --out"),
		failStrategy: fs.String("fail-strategy", "FAIL_CLOSE", "spec.failStrategy: FAIL_CLOSE, FAIL_OPEN or FAIL_RELOAD"),
		pullPolicy:   fs.String("pull-policy", "IfNotPresent", "spec.imagePullPolicy: IfNotPresent or Always"),
		rootID:       fs.String("root-id", "tokengate", "the plugin's root_id: WasmPlugin spec.pluginName, and the root_ids of the oci format's runtime configuration"),
		selector:     labels{},
	}
	fs.Var(sf.selector, "selector", "spec.selector.matchLabels as key=value[,key=value] (repeatable); default istio=ingressgateway")
	return sf
}

func writeSnippet(w io.Writer, sf *snippetFlags, image, digest string) error {
	p := istio.WasmPlugin{
		Name: *sf.name, Namespace: *sf.namespace, Image: image, SHA256: digest,
		FailStrategy: *sf.failStrategy, ImagePullPolicy: *sf.pullPolicy, PluginName: *sf.rootID,
	}
	if len(sf.selector) > 0 {
		p.Selector = sf.selector
	}
	if *sf.pluginConfig != "" {
		b, err := os.ReadFile(*sf.pluginConfig)
		if err != nil {
			return fmt.Errorf("reading the plugin configuration: %w", err)
		}
		p.PluginConfig = b
	}
	out, err := istio.Render(p)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

func snippet(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("snippet", "snippet --image REF --digest sha256:HEX [flags]", stderr)
	image := fs.String("image", "", "the pushed image reference (required)")
	digest := fs.String("digest", "", "the manifest digest push printed (required)")
	sf := addSnippetFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *image == "" || *digest == "" {
		fmt.Fprintln(stderr, "wasm-oci snippet: --image and --digest are required, and no arguments")
		fs.Usage()
		return errUsage
	}
	return writeSnippet(stdout, sf, *image, *digest)
}
