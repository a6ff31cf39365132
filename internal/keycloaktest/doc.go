// Package keycloaktest runs a real Keycloak for end-to-end tests and sets it
// up through its admin REST API.
//
// Keycloak is the OpenID provider most deployments of tokengate sit behind;
// its tokens, discovery document, key set (with an encryption key beside the
// signing keys) and key rotation are what tokengate must handle in
// production, so the e2e tests use the real server rather than a model of
// it.
//
// The distribution comes from TOKENGATE_KEYCLOAK_HOME and the Java runtime
// (21 or later) from TOKENGATE_KEYCLOAK_JAVA; `make keycloak` installs both
// under .tools, where they are found when the variables are not set. Without
// them the test is skipped,
// unless TOKENGATE_REQUIRE_E2E=1 (set by `make test` and CI), in which case
// it fails. One Keycloak serves every test of a test process: it starts on
// the first call to Start, with an in-memory database, on free loopback
// ports, and is stopped by Stop, which the package's TestMain calls. If the
// test process dies without calling it, Keycloak is sent SIGTERM by the
// kernel (parent-death signal), so no Java process outlives `go test`.
//
//	func TestMain(m *testing.M) { code := m.Run(); keycloaktest.Stop(); os.Exit(code) }
//
//	kc := keycloaktest.Start(t)
//	if err := kc.CreateRealm("models"); err != nil { t.Fatal(err) }
//	c, err := kc.CreateClient("models", "scorer", keycloaktest.ClientOptions{Audience: true})
//	token, err := kc.Token(kc.Issuer("models"), c.ClientID, c.Secret)
package keycloaktest
