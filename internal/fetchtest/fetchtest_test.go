package fetchtest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestKidsIn(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string
	}{
		{"two keys", `{"providers":{"corp":{"jwks":{"keys":[{"kid":"a"},{"kid":"b"}]}}}}`, []string{"a", "b"}},
		{"an empty set", `{"providers":{"corp":{"jwks":{"keys":[]}}}}`, []string{}},
		{"no key set", `{"providers":{"corp":{"issuer":"https://idp"}}}`, nil},
		{"another provider", `{"providers":{"other":{"jwks":{"keys":[{"kid":"a"}]}}}}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := KidsIn(t, []byte(tc.config), "corp")
			if !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("KidsIn = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestRecorderWaitsForAMatchingConfiguration(t *testing.T) {
	r := NewRecorder()
	if r.Latest() != nil || r.Count() != 0 {
		t.Fatal("a new recorder is not empty")
	}
	go func() {
		for i := range 3 {
			time.Sleep(10 * time.Millisecond)
			_ = r.Publish(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i))
		}
	}()
	got := r.WaitFor(t, 5*time.Second, "the third configuration", func(c []byte) bool { return string(c) == `{"n":2}` })
	if string(got) != `{"n":2}` || r.Count() != 3 {
		t.Fatalf("got %s after %d publications", got, r.Count())
	}
}

type runner func(context.Context) error

func (f runner) Run(ctx context.Context) error { return f(ctx) }

func TestRunStopsWithTheTest(t *testing.T) {
	stopped := make(chan struct{})
	t.Run("inner", func(t *testing.T) {
		Run(t, runner(func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil }))
	})
	select {
	case <-stopped:
	default:
		t.Fatal("the runner was not cancelled when its test ended")
	}
}
