package wasmoci_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"
)

// TestMain silences the registry's request log, which goes to logrus's
// global logger.
func TestMain(m *testing.M) {
	logrus.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// startRegistry serves a CNCF distribution registry (the reference
// implementation behind Docker Hub and most self-hosted registries) with
// in-memory storage on a loopback port for the duration of the test, and
// returns its host:port. wrap, if not nil, sits in front of it.
func startRegistry(t testing.TB, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"inmemory":    configuration.Parameters{},
			"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		},
	}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	ctx, cancel := context.WithCancel(context.Background())
	var h http.Handler = handlers.NewApp(ctx, cfg)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		cancel()
	})
	return strings.TrimPrefix(srv.URL, "http://")
}

// testModule returns a valid core WebAssembly module of about size bytes:
// the header and one custom section named "tokengate-test" whose payload is
// a deterministic function of seed.
func testModule(seed byte, size int) []byte {
	name := "tokengate-test"
	payload := make([]byte, size)
	x := uint32(seed) + 1
	for i := range payload {
		x = x*1664525 + 1013904223
		payload[i] = byte(x >> 24 & 0x3f) // low entropy, so gzip has work to do
	}
	body := binary.AppendUvarint(nil, uint64(len(name)))
	body = append(body, name...)
	body = append(body, payload...)
	m := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00, 0x00}
	m = binary.AppendUvarint(m, uint64(len(body)))
	return append(m, body...)
}
