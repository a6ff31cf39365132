package gate_test

import (
	"fmt"
	"time"

	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// An opaque token is decided in three steps: the first decision says that
// the token's answer is missing (and is the 503 the request gets without
// one), PlanIntrospection gives the call to send, and once the answer is
// handed to FinishIntrospection the paused request is decided again.
func ExampleGate_PlanIntrospection() {
	g, _, err := gate.Compile([]byte(`{"providers": {"op": {"type": "introspection",
	  "issuer": "https://op.example.com", "require_expiration": false,
	  "introspection": {"cluster": "op", "path": "/token/introspection", "client_id": "gate", "client_secret": "s3cret"}}}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	req := &gate.Request{Headers: [][2]string{{":method", "GET"}, {":path", "/models"}, {":authority", "api"},
		{"authorization", "Bearer Kq2m9x0Ytc"}}}
	now := time.Now()

	d := g.Decide(req, now)
	fmt.Println("first decision:", d.Status, d.Code, "awaits an answer:", d.Introspect != nil)

	step, call := g.PlanIntrospection(&d, 1, now)
	fmt.Println("send:", step == gate.IntrospectSend, "to", call.Upstream)
	for _, h := range call.Headers[:3] {
		fmt.Println(" ", h[0], h[1])
	}
	fmt.Println(" ", string(call.Body))

	paused, err := g.FinishIntrospection(call.Key, &gate.IntrospectionAnswer{Status: "200", ContentType: "application/json",
		Body: []byte(`{"active": true, "token_type": "Bearer", "scope": "read", "client_id": "batch"}`)}, now)
	fmt.Println("paused requests:", paused, err)

	d = g.Decide(req, now)
	fmt.Println("decided again: allowed", d.Allow, "by", d.Provider, "removing", d.RemoveHeaders)
	// Output:
	// first decision: 503 introspection_unavailable awaits an answer: true
	// send: true to op
	//   :method POST
	//   :path /token/introspection
	//   :authority op.example.com
	//   token=Kq2m9x0Ytc&token_type_hint=access_token
	// paused requests: [1] <nil>
	// decided again: allowed true by op removing [authorization]
}
