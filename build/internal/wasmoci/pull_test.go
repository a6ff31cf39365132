package wasmoci_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokengate/tokengate/build/internal/wasmoci"
)

// tamper returns a middleware that flips the last byte of every GET
// response whose path contains part, while armed is set.
func tamper(part string, armed *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !armed.Load() || r.Method != http.MethodGet || !strings.Contains(r.URL.Path, part) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			if rec.Code == http.StatusOK && len(body) > 0 {
				body[len(body)-1] ^= 0x01
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	}
}

func TestPullRefusesWhatDoesNotMatchItsDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	module := testModule(6, 20_000)

	t.Run("a pinned digest that differs is refused", func(t *testing.T) {
		t.Parallel()
		reg := startRegistry(t, nil)
		a, _ := wasmoci.Build(module, wasmoci.FormatCompat)
		if _, err := wasmoci.Push(ctx, reg+"/m:v1", a); err != nil {
			t.Fatal(err)
		}
		// The real digest with its last hex digit changed.
		d := a.Digest()
		last := "0"
		if strings.HasSuffix(d, "0") {
			last = "1"
		}
		for _, pin := range []string{d[:len(d)-1] + last, strings.Repeat("0", 64)} {
			p, err := wasmoci.Pull(ctx, reg+"/m:v1", wasmoci.WithDigest(pin))
			if p != nil || !errors.Is(err, wasmoci.ErrDigestMismatch) {
				t.Fatalf("Pull with pin %s: error %v, want ErrDigestMismatch and no module", pin, err)
			}
		}
	})

	t.Run("a reference to a digest the registry does not have fails", func(t *testing.T) {
		t.Parallel()
		reg := startRegistry(t, nil)
		a, _ := wasmoci.Build(module, wasmoci.FormatOCI)
		if _, err := wasmoci.Push(ctx, reg+"/m:v1", a); err != nil {
			t.Fatal(err)
		}
		if p, err := wasmoci.Pull(ctx, reg+"/m@sha256:"+strings.Repeat("1", 64)); p != nil || err == nil {
			t.Fatal("Pull of an absent digest returned a module")
		}
	})

	for _, f := range wasmoci.Formats() {
		for _, part := range []string{"/blobs/", "/manifests/"} {
			t.Run("the "+string(f)+" format refuses a corrupted "+strings.Trim(part, "/")+" response", func(t *testing.T) {
				t.Parallel()
				var armed atomic.Bool
				reg := startRegistry(t, tamper(part, &armed))
				a, err := wasmoci.Build(module, f)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := wasmoci.Push(ctx, reg+"/m:v1", a); err != nil {
					t.Fatal(err)
				}
				if p, err := wasmoci.Pull(ctx, reg+"/m:v1"); err != nil || !bytes.Equal(p.Module, module) {
					t.Fatalf("untampered pull: %v", err)
				}
				armed.Store(true)
				if p, err := wasmoci.Pull(ctx, reg+"/m:v1"); p != nil || err == nil {
					t.Fatal("Pull returned a module from a corrupted response")
				}
			})
		}
	}
}
