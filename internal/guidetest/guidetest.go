package guidetest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// Marker starts the comment line that precedes a guide's configuration.
const Marker = "<!-- e2e:config"

// Config returns the JSON block marked in docs/<file>. The test fails when
// the file has no marker or more than one, or the marker is not followed by
// a closed ```json block.
func Config(t testing.TB, file string) string {
	t.Helper()
	root, err := wasmbuild.ModuleRoot()
	if err != nil {
		t.Fatalf("guidetest: finding the module root: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", file))
	if err != nil {
		t.Fatalf("guidetest: reading the guide: %v", err)
	}
	cfg, err := extract(string(b))
	if err != nil {
		t.Fatalf("guidetest: docs/%s: %v", file, err)
	}
	return cfg
}

// extract returns the ```json block after the one Marker line of doc.
func extract(doc string) (string, error) {
	if n := strings.Count(doc, Marker); n != 1 {
		return "", fmt.Errorf("has %d %q markers; want exactly one, on the line before the configuration's ```json block", n, Marker)
	}
	_, after, _ := strings.Cut(doc, Marker)
	_, after, _ = strings.Cut(after, "\n")
	body, ok := strings.CutPrefix(after, "```json\n")
	if !ok {
		return "", fmt.Errorf("the line after the %q marker must open a ```json block", Marker)
	}
	block, _, ok := strings.Cut(body, "\n```")
	if !ok {
		return "", fmt.Errorf("the ```json block after the %q marker is never closed", Marker)
	}
	return block, nil
}

// WithKeys returns cfg with jwks (an RFC 7517 key set) as the key set of
// every provider, as jwksfetch fills it in in a deployment. The test fails
// when cfg is not a JSON object with providers.
func WithKeys(t testing.TB, cfg string, jwks []byte) string {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatalf("guidetest: the guide's configuration is not a JSON object: %v", err)
	}
	var provs map[string]map[string]json.RawMessage
	if err := json.Unmarshal(doc["providers"], &provs); err != nil {
		t.Fatalf("guidetest: the guide's providers are not an object of objects: %v", err)
	}
	for _, p := range provs {
		p["jwks"] = jwks
	}
	var err error
	if doc["providers"], err = json.Marshal(provs); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
