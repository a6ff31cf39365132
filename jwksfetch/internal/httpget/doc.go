// Package httpget performs the one kind of HTTP request a JWKS fetcher makes:
// a conditional GET of a small JSON document over HTTPS, with a size cap.
//
// Keeping this in one place means the HTTPS rule, the size cap and the ETag
// handling cannot differ between discovery and key-set fetches.
//
//	res, err := httpget.Get(ctx, client, url, httpget.Options{ETag: last.ETag})
//	if res.NotModified { ... keep the last body ... }
package httpget
