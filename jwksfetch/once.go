package jwksfetch

import (
	"context"
	"fmt"
)

// Once fetches the key set of every provider in config that has no inline
// "jwks" and returns config with those sets filled in, plus one warning per
// key that was stripped or dropped. It fails, naming the provider, if any
// key set cannot be fetched; the caller keeps its previous configuration in
// that case.
func Once(ctx context.Context, config []byte, opts ...Option) ([]byte, []string, error) {
	f, err := New(config, opts...)
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	for _, name := range f.order {
		_, warns, _, err := f.refresh(ctx, f.provs[name])
		for _, w := range warns {
			warnings = append(warnings, fmt.Sprintf("providers.%s: %s", name, w))
		}
		if err != nil {
			return nil, warnings, fmt.Errorf("jwksfetch: providers.%s: %w", name, err)
		}
	}
	out, err := f.Config()
	if err != nil {
		return nil, warnings, err
	}
	return out, warnings, nil
}
