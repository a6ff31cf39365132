package guidetest

import (
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want, err string
	}{
		{name: "the block after the marker", doc: "# G\n\n```json\n{\"a\": 0}\n```\n" + Marker + " x -->\n```json\n{\n  \"b\": 1\n}\n```\nmore\n",
			want: "{\n  \"b\": 1\n}"},
		{name: "no marker", doc: "```json\n{}\n```\n", err: `has 0 "<!-- e2e:config" markers`},
		{name: "two markers", doc: Marker + " -->\n```json\n{}\n```\n" + Marker + " -->\n```json\n{}\n```\n", err: `has 2`},
		{name: "a marker before something else", doc: Marker + " -->\n\n```json\n{}\n```\n", err: "must open a ```json block"},
		{name: "a block never closed", doc: Marker + " -->\n```json\n{}\n", err: "never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extract(tt.doc)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("extract = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestTheGuidesHaveTheirMarkedConfiguration(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"guide-mlflow-roles.md", "guide-per-model-access.md"} {
		t.Run(file, func(t *testing.T) {
			cfg := WithKeys(t, Config(t, file), []byte(`{"keys":[]}`))
			if !strings.Contains(cfg, `"jwks":{"keys":[]}`) || !strings.Contains(cfg, `"rules":[`) {
				t.Fatalf("configuration read from docs/%s lacks the key set or the rules: %s", file, cfg)
			}
		})
	}
}
