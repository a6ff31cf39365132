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
