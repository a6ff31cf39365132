package httpget

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		url      string
		insecure bool
		ok       bool
	}{
		{name: "https is always allowed", url: "https://idp.example.com/keys", ok: true},
		{name: "http to loopback is allowed", url: "http://127.0.0.1:8080/keys", ok: true},
		{name: "http to localhost is allowed", url: "http://localhost/keys", ok: true},
		{name: "http elsewhere is refused", url: "http://idp.example.com/keys"},
		{name: "http elsewhere is allowed with the escape hatch", url: "http://idp.example.com/keys", insecure: true, ok: true},
		{name: "other schemes are refused", url: "file:///etc/passwd", insecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := CheckURL(tt.url, tt.insecure); (err == nil) != tt.ok {
				t.Fatalf("CheckURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/keys":
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"v1"`)
			w.Write([]byte(`{"keys":[]}`))
		case "/big":
			w.Write([]byte(strings.Repeat("x", 2048)))
		default:
			http.Error(w, "nope", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	t.Run("a first fetch returns the body and its ETag", func(t *testing.T) {
		res, err := Get(ctx, srv.Client(), srv.URL+"/keys", Options{})
		if err != nil || string(res.Body) != `{"keys":[]}` || res.ETag != `"v1"` || res.NotModified {
			t.Fatalf("res=%+v err=%v", res, err)
		}
	})
	t.Run("a matching ETag yields not modified", func(t *testing.T) {
		res, err := Get(ctx, srv.Client(), srv.URL+"/keys", Options{ETag: `"v1"`})
		if err != nil || !res.NotModified || res.ETag != `"v1"` {
			t.Fatalf("res=%+v err=%v", res, err)
		}
	})
	t.Run("an oversized body is refused", func(t *testing.T) {
		_, err := Get(ctx, srv.Client(), srv.URL+"/big", Options{MaxBytes: 1024})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("a server error is reported", func(t *testing.T) {
		_, err := Get(ctx, srv.Client(), srv.URL+"/fail", Options{})
		if !errors.Is(err, ErrStatus) {
			t.Fatalf("err = %v, want ErrStatus", err)
		}
	})
}
