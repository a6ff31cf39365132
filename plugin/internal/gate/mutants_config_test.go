package gate

import "testing"

// TestProviderEntriesAreRefusedByName: each malformed entry of a token
// provider is refused with the whole message, naming the entry by its index.
// Before this test no test reached the messages for a passphrase setting on a
// JWT provider, a claim_to_headers value that is not an array or has no
// claim, a claim rule without a claim and an empty one_of.
func TestProviderEntriesAreRefusedByName(t *testing.T) {
	prov := func(fields string) string {
		return `{"providers":{"a":{"issuer":"x",` + fields + `}}}`
	}
	const onlyPassphrase = `applies only to "type": "passphrase"`
	tests := []struct {
		name, fields, err string // the whole error; "" for accepted
	}{
		{"a passphrase on a JWT provider", `"passphrase":"0123456789abcdef"`, `providers.a.passphrase: ` + onlyPassphrase},
		{"a hashed passphrase on a JWT provider", `"hashed_passphrase":"x"`, `providers.a.hashed_passphrase: ` + onlyPassphrase},
		{"claim_to_headers an object", `"claim_to_headers":{"claim":"sub","header":"x-sub"}`,
			`providers.a.claim_to_headers: must be an array of {"claim", "header"}`},
		{"claim_to_headers without a claim", `"claim_to_headers":[{"header":"x-sub"}]`,
			`providers.a.claim_to_headers[0].claim: is required (a claim name or gjson path, e.g. "sub" or "realm_access.roles")`},
		{"the second claim_to_headers entry is named by its index", `"claim_to_headers":[{"claim":"sub","header":"x-sub"},{"claim":"email"}]`,
			`providers.a.claim_to_headers[1].header: must be a valid HTTP header name`},
		{"claim_to_headers with an unknown member", `"claim_to_headers":[{"claim":"sub","header":"x-sub","as":"x"}]`,
			`providers.a.claim_to_headers[0].as: unknown field (known: claim, header)`},
		{"a claim rule without a claim", `"claims":[{"equals":"x"}]`, `providers.a.claims[0].claim: is required`},
		{"an empty claim", `"claims":[{"claim":"","equals":"x"}]`, `providers.a.claims[0].claim: is required`},
		{"an empty one_of", `"claims":[{"claim":"sub","one_of":[]}]`, `providers.a.claims[0].one_of: must be a non-empty array`},
		{"a one_of that is not an array", `"claims":[{"claim":"sub","one_of":"x"}]`, `providers.a.claims[0].one_of: must be a non-empty array`},
		{"the second claim rule is named by its index", `"claims":[{"claim":"sub","equals":"x"},{"claim":"sub","equals":"x","contains":"y"}]`,
			`providers.a.claims[1]: needs exactly one of "equals", "one_of" or "contains"`},
		{"claims an object", `"claims":{"claim":"sub","equals":"x"}`,
			`providers.a.claims: must be an array of {"claim", "equals" | "one_of" | "contains"}`},
		{"each claim condition alone", `"claims":[{"claim":"a","equals":"x"},{"claim":"b","one_of":["x","y"]},{"claim":"c","contains":"x"},{"claim":"d","contains":["x","y"]}]`, ""},
		{"each header setting", `"claim_to_headers":[{"claim":"sub","header":"X-Sub"}],"payload_header":"x-jwt-payload"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compileErr(prov(tt.fields)); got != tt.err {
				t.Fatalf("Compile error %q, want %q", got, tt.err)
			}
		})
	}
}
