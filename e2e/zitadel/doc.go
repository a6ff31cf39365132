// Package zitadel tests the key fetcher against an independent OpenID
// provider: the OP of github.com/zitadel/oidc/v3 on loopback, issuing JWT
// access tokens with the client-credentials grant and rotating its keys on
// request. The same rotation is followed in process (jwksfetch's public
// API), through the real plugin in the Go host, and through the jwksfetch
// daemon pushing the filter over ECDS (gRPC and a watched file) into a real
// Envoy under steady load.
//
// It lives in the e2e module so that the provider library and its
// dependencies are requirements of the tests only, never of tokengate.
package zitadel
