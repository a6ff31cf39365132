// Package xds serves the tokengate Wasm filter to Envoy over the Extension
// Config Discovery Service (ECDS), state-of-the-world and delta, built on
// go-control-plane.
//
// Every connected Envoy gets the same resource, so the server keeps it in a
// go-control-plane LinearCache (one resource set shared by all nodes) rather
// than a per-node snapshot cache; each Publish replaces the resource and
// bumps its version, and the cache pushes it to every open watch.
//
//	srv := xds.New("tokengate", tmpl, logger)
//	go srv.Serve(ctx, listener)
//	_ = srv.Publish(ctx, renderedConfig) // reaches every Envoy watching "tokengate"
package xds
