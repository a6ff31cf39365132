// Package ecds builds the Envoy extension config (ECDS) resource that
// carries the tokengate Wasm filter with a rendered plugin configuration,
// and writes it as a path-based ECDS file.
//
// The resource is an envoy.config.core.v3.TypedExtensionConfig whose
// typed_config is an envoy.extensions.filters.http.wasm.v3.Wasm. Its
// PluginConfig comes from an operator's template (name, root_id, vm_config
// with the code location); only "configuration" is filled in, as a
// google.protobuf.StringValue holding the plugin configuration JSON.
//
//	tmpl, _ := ecds.ParseTemplate(templateJSON)
//	res, _ := ecds.Resource("tokengate", tmpl, renderedConfig)
//	_ = ecds.WriteFile("/etc/envoy/ecds/tokengate.json", res)
package ecds
