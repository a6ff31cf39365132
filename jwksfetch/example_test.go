package jwksfetch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tokengate/tokengate/jwksfetch"
)

func ExampleOnce() {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"2026-11","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	}))
	defer idp.Close()
	cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example.com","jwks_uri":%q}}}`, idp.URL)

	out, _, err := jwksfetch.Once(context.Background(), []byte(cfg), jwksfetch.WithHTTPClient(idp.Client()))
	if err != nil {
		fmt.Println(err)
		return
	}
	var rendered struct {
		Providers map[string]struct {
			JWKS struct{ Keys []struct{ Kid string } }
		}
	}
	_ = json.Unmarshal(out, &rendered)
	fmt.Println(rendered.Providers["corp"].JWKS.Keys[0].Kid)
	// Output: 2026-11
}

// A proxy runs the fetcher in process and reconfigures its plugin with every
// configuration the Callback sink receives; when the plugin reports a token
// with an unknown kid, it calls RequestRefresh.
func ExampleNew() {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"2026-11","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	}))
	defer idp.Close()
	cfg := fmt.Sprintf(`{"providers":{"corp":{"issuer":"https://idp.example.com","jwks_uri":%q}}}`, idp.URL)

	configs := make(chan []byte, 1)
	f, err := jwksfetch.New([]byte(cfg),
		jwksfetch.WithHTTPClient(idp.Client()),
		jwksfetch.WithSink(jwksfetch.Callback(func(config []byte) { configs <- config })))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx) }()

	var rendered struct {
		Providers map[string]struct {
			JWKS struct{ Keys []struct{ Kid string } }
		}
	}
	_ = json.Unmarshal(<-configs, &rendered) // e.g. plugin.Configure(ctx, config)
	fmt.Println("keys in force:", rendered.Providers["corp"].JWKS.Keys[0].Kid)
	fmt.Println("unknown kid:", f.RequestRefresh("corp", "2026-12"))
	fmt.Println("right after:", f.RequestRefresh("corp", "2026-13"))

	cancel()
	fmt.Println("Run returned:", <-done)
	// Output:
	// keys in force: 2026-11
	// unknown kid: scheduled
	// right after: rate_limited
	// Run returned: <nil>
}
