package gate

import (
	"strings"
	"testing"
	"time"
)

// FuzzIntrospectionAnswer throws arbitrary answers at the introspection
// reader and at the whole path an answer takes (FinishIntrospection, then the
// request decided again). Nothing may panic; the request may only be let
// through when the answer is a 200 application/json object whose "active"
// is true and whose token_type is Bearer; an answer that does not read gives
// 503, never 401 and never a pass.
func FuzzIntrospectionAnswer(f *testing.F) {
	t0 := time.Unix(1_800_000_000, 0)
	f.Add("200", "application/json", []byte(activeAnswer(t0)))
	f.Add("200", "application/json; charset=utf-8", []byte(`{"active":false}`))
	f.Add("200", "application/json", []byte(`{"active":true,"token_type":"Bearer","exp":1800000600,"aud":["a",1]}`))
	f.Add("200", "Application/JSON", []byte(`{"active":true,"active":false}`))
	f.Add("500", "application/json", []byte(`{"active":true}`))
	f.Add("200", "text/html", []byte(`<html>`))
	f.Add("200", "application/json", []byte(`{"active":"true","token_type":"Bearer"}`))
	f.Add("200", "application/json", []byte(`{"active":true,"token_type":"Bearer","exp":1e999}`))
	cfg := introspectCfg(`, "require_expiration": false`, `, "cache_size": 4`, "")
	f.Fuzz(func(t *testing.T, status, contentType string, body []byte) {
		claims, active, err := readIntrospection(status, contentType, body)
		if err == nil {
			if status != "200" || len(body) == 0 || len(body) > maxAnswerBytes {
				t.Fatalf("read an answer with status %q and %d bytes", status, len(body))
			}
			if active && (!claims.IsObject() || claims.Get("active").Type.String() != "True") {
				t.Fatalf("active, but the claims are %q", claims.Raw)
			}
		}
		g := compile(t, cfg)
		req := get("/", bearer(opaque)...)
		d := g.Decide(req, t0)
		_, call := g.PlanIntrospection(&d, 1, t0)
		ids, ferr := g.FinishIntrospection(call.Key, &IntrospectionAnswer{Status: status, ContentType: contentType, Body: body}, t0)
		if len(ids) != 1 || (ferr == nil) != (err == nil) {
			t.Fatalf("FinishIntrospection: ids %v, error %v; the reader said %v", ids, ferr, err)
		}
		if ferr != nil && strings.Contains(ferr.Error(), opaque) {
			t.Fatalf("the error shows the token: %v", ferr)
		}
		d = g.Decide(req, t0)
		switch {
		case err != nil:
			if d.Allow || d.Status != 503 {
				t.Fatalf("an answer that does not read gave %v %d", d.Allow, d.Status)
			}
		case !active:
			if d.Allow || d.Status != 401 || d.Code != "token_inactive" {
				t.Fatalf("an inactive answer gave %v %d %s", d.Allow, d.Status, d.Code)
			}
		case d.Allow:
			if !strings.EqualFold(claims.Get("token_type").Str, "Bearer") || claims.Get("cnf").Exists() {
				t.Fatalf("allowed an answer that is not a Bearer token: %s", body)
			}
		default:
			if d.Status != 401 && d.Status != 403 {
				t.Fatalf("an active answer that reads was refused with %d", d.Status)
			}
		}
	})
}
