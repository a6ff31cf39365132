// Package coalesce merges concurrent calls for the same key into one: the
// first caller runs the function, the others wait for and share its result.
// The fetcher uses it so that providers sharing a key set URL, or a refresh
// request racing a scheduled refresh, cause one HTTP request, not several.
//
//	var g coalesce.Group[*httpget.Result]
//	res, err, shared := g.Do(url, func() (*httpget.Result, error) { return get(url) })
package coalesce
