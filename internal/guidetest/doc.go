// Package guidetest reads the plugin configuration a guide under docs/
// prints, so that end-to-end tests run exactly what users copy. A guide
// marks its configuration with the comment Marker on the line directly
// before the fenced ```json block:
//
//	<!-- e2e:config (...) -->
//	```json
//	{"realm": "mlflow", ...}
//	```
//
// and a test reads it with
//
//	cfg := guidetest.WithKeys(t, guidetest.Config(t, "guide-mlflow-roles.md"), idp.JWKS())
//
// The guide and the test can then not drift apart: changing the guide
// changes the test's input, and losing the marker fails the test.
package guidetest
