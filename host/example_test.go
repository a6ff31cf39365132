package host_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/tokengate/tokengate/host"
	"github.com/tokengate/tokengate/testhost"
)

func Example() {
	wasm := testhost.Build(&testingStub{}, guestPkg)
	ctx := context.Background()
	p, err := host.Load(ctx, wasm, host.WithPoolSize(2), host.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close(ctx)
	if err := p.Configure(ctx, []byte(`ok`)); err != nil {
		fmt.Println(err)
		return
	}
	h := p.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream saw x-seen=%s", r.Header.Get("x-seen"))
	}))
	for _, path := range []string{"/hello", "/deny"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 upstream saw x-seen=/hello
	// 403 {"error":"denied"}
}

// testingStub lets the example use testhost.Build outside a test function.
type testingStub struct{ testing.TB }

func (*testingStub) Helper() {}
func (*testingStub) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
	os.Exit(1)
}
