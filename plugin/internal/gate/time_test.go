package gate

import (
	"errors"
	"testing"
)

// TestCheckTimeHonoursEachLimitToTheSecond pins exp, nbf, iat and the
// lifetime limit at their bounds, with and without the clock skew: a token
// exactly at a limit is accepted and one second past it refused, and a token
// without exp is refused whenever a lifetime limit is configured.
func TestCheckTimeHonoursEachLimitToTheSecond(t *testing.T) {
	t.Parallel()
	const now, skew, life = 1_000_000.0, 60.0, 3600.0
	for _, tc := range []struct {
		name string
		p    provider
		t    times
		want error
	}{
		{"a token without exp is accepted when neither exp nor a lifetime is required",
			provider{skew: skew}, times{}, nil},
		{"a token without exp is refused when exp is required",
			provider{skew: skew, requireExp: true}, times{}, ErrExpirationMissing},
		{"a token without exp is refused under a lifetime limit",
			provider{skew: skew, maxLife: life}, times{}, ErrExpirationMissing},
		{"a token without exp but with iat is refused under a lifetime limit",
			provider{skew: skew, maxLife: life}, times{iat: now, hasIat: true}, ErrExpirationMissing},
		{"exp one second inside the skew is accepted",
			provider{skew: skew}, times{exp: now - skew + 1, hasExp: true}, nil},
		{"exp exactly at now minus the skew is expired",
			provider{skew: skew}, times{exp: now - skew, hasExp: true}, ErrTokenExpired},
		{"exp exactly now without skew is expired",
			provider{}, times{exp: now, hasExp: true}, ErrTokenExpired},
		{"nbf exactly at now plus the skew is accepted",
			provider{skew: skew}, times{nbf: now + skew, hasNbf: true}, nil},
		{"nbf half the skew ahead is accepted",
			provider{skew: skew}, times{nbf: now + skew/2, hasNbf: true}, nil},
		{"nbf one second past the skew is not yet valid",
			provider{skew: skew}, times{nbf: now + skew + 1, hasNbf: true}, ErrTokenNotYetValid},
		{"nbf exactly now without skew is accepted",
			provider{}, times{nbf: now, hasNbf: true}, nil},
		{"iat exactly at now plus the skew is accepted",
			provider{skew: skew}, times{iat: now + skew, hasIat: true}, nil},
		{"iat one second past the skew is refused",
			provider{skew: skew}, times{iat: now + skew + 1, hasIat: true}, ErrTokenUsedBeforeIAT},
		{"a lifetime of exactly the limit plus the skew is accepted",
			provider{skew: skew, maxLife: life}, times{iat: now, hasIat: true, exp: now + life + skew, hasExp: true}, nil},
		{"a lifetime of the limit plus half the skew is accepted",
			provider{skew: skew, maxLife: life}, times{iat: now, hasIat: true, exp: now + life + skew/2, hasExp: true}, nil},
		{"a lifetime one second over the limit plus the skew is refused",
			provider{skew: skew, maxLife: life}, times{iat: now, hasIat: true, exp: now + life + skew + 1, hasExp: true}, ErrLifetimeTooLong},
		{"without iat the lifetime counts from now, accepted at the limit",
			provider{skew: skew, maxLife: life}, times{exp: now + life + skew, hasExp: true}, nil},
		{"without iat the lifetime counts from now, refused past it",
			provider{skew: skew, maxLife: life}, times{exp: now + life + skew + 1, hasExp: true}, ErrLifetimeTooLong},
		{"an old iat makes a long-lived token too long even when little is left",
			provider{maxLife: life}, times{iat: now - life, hasIat: true, exp: now + 1, hasExp: true}, ErrLifetimeTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.checkTime(tc.t, now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
