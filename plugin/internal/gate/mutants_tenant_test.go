package gate

import (
	"strconv"
	"strings"
	"testing"

	"github.com/tokengate/tokengate/internal/tenancy"
)

// TestTenantsListUpToTheMaximum: a provider may allow exactly
// tenancy.MaxTenants tenants; one more is refused with the count.
func TestTenantsListUpToTheMaximum(t *testing.T) {
	list := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = strconv.Quote("t" + strconv.Itoa(i))
		}
		return `{"providers": {"multi": {"issuer": "https://idp.example.com/realms/{tenantid}", "tenants": [` + strings.Join(ids, ", ") + `]}}}`
	}
	tests := []struct {
		name string
		n    int
		err  string // "" when the configuration compiles
	}{
		{name: "one tenant", n: 1},
		{name: "one under the maximum", n: tenancy.MaxTenants - 1},
		{name: "exactly the maximum", n: tenancy.MaxTenants},
		{name: "one over the maximum", n: tenancy.MaxTenants + 1,
			err: "providers.multi.tenants: lists " + strconv.Itoa(tenancy.MaxTenants+1) + " tenants; at most " + strconv.Itoa(tenancy.MaxTenants) + " are allowed per provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _, err := Compile([]byte(list(tt.n)))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Compile with %d tenants: %v", tt.n, err)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Fatalf("Compile with %d tenants = %v, want %q", tt.n, err, tt.err)
			case tt.err == "":
				if got := len(g.provider("multi").tenants.ids); got != tt.n {
					t.Fatalf("%d tenants compiled, want %d", got, tt.n)
				}
			}
		})
	}
}
