package keybundle_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/tokengate/tokengate/internal/keybundle"
)

// The fetcher signs every provider's key set; the plugin verifies the bundle
// against the key it pins, installs it, and keeps its version, so that the
// same bundle again is nothing to do and an older one is a replay.
func ExampleVerifier_Verify() {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)) // jwksfetch --bundle-key
	issued := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	data, err := keybundle.Sign(keybundle.Bundle{Version: 1767323045000, IssuedAt: issued, Providers: []keybundle.Provider{{
		Name: "corp", Issuer: "https://idp.example.com",
		JWKS: []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`),
	}}}, priv)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The plugin's configuration pins the public key as a string.
	pinned, err := keybundle.ParsePublicKey(keybundle.NewPublicKey(priv.Public().(ed25519.PublicKey)).String())
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := keybundle.NewVerifier(time.Hour, pinned)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := issued.Add(30 * time.Second)
	b, err := v.Verify(data, 0, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	corp := b.Provider("corp")
	fmt.Println("version", b.Version, "signed by", b.KeyID == pinned.ID())
	fmt.Println(corp.Name, corp.Issuer, len(corp.Keys.Keys), "key:", corp.Keys.Keys[0].Kid)

	_, err = v.Verify(data, b.Version, now)
	fmt.Println("again:", keybundle.Reason(err))
	_, err = v.Verify(data, b.Version, now.Add(2*time.Hour))
	fmt.Println("later:", keybundle.Reason(err))
	_, err = v.Verify(data, 0, now.Add(2*time.Hour))
	fmt.Println("stale:", err)
	// Output:
	// version 1767323045000 signed by true
	// corp https://idp.example.com 1 key: k1
	// again: unchanged
	// later: unchanged
	// stale: key bundle is stale: issued 7230 s ago, more than max_stale (3600 s)
}
