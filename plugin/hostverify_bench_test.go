//go:build !wasip1

package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/issuer"
	"github.com/tokengate/tokengate/testhost"
)

// BenchmarkPluginSignature measures one uncached request through the real
// module in wazero, per algorithm, with the signature verified in the module
// and by the host's verify_signature.
func BenchmarkPluginSignature(b *testing.B) {
	algs := []issuer.Algorithm{issuer.RS256, issuer.PS256, issuer.ES256, issuer.ES384, issuer.EdDSA}
	idp, err := issuer.New(iss, algs...)
	if err != nil {
		b.Fatal(err)
	}
	cfg := matrixConfig(idp) // cache_size 0: every request verifies
	hosts := map[string]*testhost.Host{
		"module": testhost.New(b, cfg, testhost.WithHostOption(host.WithForeignFunction(hostcrypto.FunctionName,
			func([]byte) ([]byte, error) { return nil, errAlways }))),
		"host": testhost.New(b, cfg, testhost.WithHostOption(host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature))),
	}
	for _, where := range []string{"module", "host"} {
		for _, alg := range algs {
			tok, err := idp.Mint(issuer.Claims{"aud": aud, "sub": "alice"}, issuer.WithKey(string(alg)+"-1"), issuer.WithTTL(time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			req := testhost.Request{Path: "/api", Headers: [][2]string{{"authorization", "Bearer " + tok}}}
			b.Run(where+"/"+string(alg), func(b *testing.B) {
				for b.Loop() {
					if res := hosts[where].Do(b, req); !res.Continued {
						b.Fatalf("refused: %d %s", res.Status, res.Body)
					}
				}
			})
		}
	}
}

// BenchmarkPluginConfigure measures a configuration push through the real
// module: the host instantiates a fresh VM (instantiate, _initialize, VM
// start) and configures it, including the host-crypto self-test. With one
// key it is about the cost of a VM; with 50 (10 RSA-2048, 40 P-256) it adds
// parsing a large JWK Set.
func BenchmarkPluginConfigure(b *testing.B) {
	for _, n := range []int{1, 50} {
		idp := &issuer.Issuer{URL: iss}
		for i := 0; i < n; i++ {
			alg := issuer.ES256
			if i < n/5 || n == 1 {
				alg = issuer.RS256
			}
			k, err := issuer.NewKey(alg, string(alg)+"-"+strconv.Itoa(i))
			if err != nil {
				b.Fatal(err)
			}
			idp.Keys = append(idp.Keys, k)
		}
		cfg := []byte(matrixConfig(idp))
		th := testhost.New(b, string(cfg), testhost.WithHostOption(host.WithForeignFunction(hostcrypto.FunctionName, hostcrypto.VerifySignature)))
		ctx := context.Background()
		b.Run(strconv.Itoa(n)+"-keys", func(b *testing.B) {
			for b.Loop() {
				if err := th.Plugin().Configure(ctx, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
