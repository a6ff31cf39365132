package gate

import (
	"errors"
	"testing"

	"github.com/tidwall/gjson"
)

// Tests in this file kill mutants that survived the rest of the suite: each
// pins a branch whose inversion no other test noticed (see MUTANTS.md).

func TestCheckAudience(t *testing.T) {
	t.Parallel()
	p := &provider{audiences: []string{"api://scoring", "api://billing"}}
	for _, tc := range []struct {
		name string
		aud  string // the JSON value of "aud"; "" for no aud member
		want error
	}{
		{"a configured audience as a string is accepted", `"api://scoring"`, nil},
		{"another audience as a string is refused", `"api://other"`, ErrAudienceNotAccepted},
		{"an array holding a configured audience first is accepted", `["api://billing","api://other"]`, nil},
		{"an array holding a configured audience last is accepted", `["api://other","api://scoring"]`, nil},
		{"an array without a configured audience is refused", `["api://other","api://third"]`, ErrAudienceNotAccepted},
		{"an array of one other audience is refused", `["api://other"]`, ErrAudienceNotAccepted},
		{"an empty array is refused", `[]`, ErrAudienceNotAccepted},
		{"an array with a number is malformed even after a match", `["api://scoring",1]`, ErrClaimsMalformed},
		{"an array with a nested array is malformed", `[["api://scoring"]]`, ErrClaimsMalformed},
		{"a number is malformed", `42`, ErrClaimsMalformed},
		{"an object is malformed", `{"aud":"api://scoring"}`, ErrClaimsMalformed},
		{"a missing aud is refused", ``, ErrAudienceNotAccepted},
		{"a prefix of a configured audience is refused", `"api://scor"`, ErrAudienceNotAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := `{}`
			if tc.aud != "" {
				claims = `{"aud":` + tc.aud + `}`
			}
			err := p.checkAudience(gjson.Get(claims, "aud"))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
