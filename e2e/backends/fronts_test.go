package backends

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/build/envoy"
	"github.com/tokengate/tokengate/e2e/internal/daemon"
	"github.com/tokengate/tokengate/internal/envoytest"
	"github.com/tokengate/tokengate/internal/wasmbuild"
)

// hostSwitch is the single upstream of both fronts. The repository's Envoy
// bootstrap has one upstream cluster, and tokengate-proxy one --upstream,
// yet the test needs three back-ends behind one Envoy and one proxy. So the
// switch reads each request's head only far enough to find its Host header
// and framing, opens a connection to the back-end that Host names, and
// copies the request's bytes to it and the response's bytes back, unchanged:
// the back-end receives exactly what the front sent upstream.
type hostSwitch struct {
	ln       net.Listener
	backends map[string]string // host name (no port) -> address
	wg       sync.WaitGroup
}

func startSwitch(t *testing.T, backends []*backend) *hostSwitch {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &hostSwitch{ln: ln, backends: map[string]string{}}
	for _, b := range backends {
		if b.unavailable == "" {
			s.backends[b.host] = b.addr
		}
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *hostSwitch) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *hostSwitch) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.relay(c)
	}
}

// relay serves one front connection, one request at a time.
func (s *hostSwitch) relay(front net.Conn) {
	defer front.Close()
	in := bufio.NewReader(front)
	for {
		_ = front.SetReadDeadline(time.Now().Add(60 * time.Second))
		h, err := readHead(in)
		if err != nil {
			return
		}
		addr, ok := s.backends[h.host]
		if !ok {
			_, _ = io.WriteString(front, "HTTP/1.1 421 Misdirected Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
		if !s.exchange(front, in, addr, h) {
			return
		}
	}
}

// exchange sends one request to addr and its response back; it reports
// whether the front connection may carry another request.
func (s *hostSwitch) exchange(front net.Conn, in *bufio.Reader, addr string, h head) bool {
	back, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		_, _ = io.WriteString(front, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		return false
	}
	defer back.Close()
	_ = back.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := back.Write(h.raw); err != nil {
		return false
	}
	if _, err := io.CopyN(back, in, h.contentLength); err != nil {
		return false
	}
	// Everything read from the back-end is written to the front as it is
	// read; ReadResponse only finds where the response ends.
	resp, err := http.ReadResponse(bufio.NewReader(io.TeeReader(back, front)), &http.Request{Method: h.method})
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && !resp.Close
}

// head is the part of a request head the switch needs.
type head struct {
	raw           []byte
	method, host  string
	contentLength int64
}

// readHead reads one request head, byte for byte.
func readHead(r *bufio.Reader) (head, error) {
	var h head
	for first := true; ; first = false {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return h, err
		}
		h.raw = append(h.raw, line...)
		if len(h.raw) > 256<<10 {
			return h, errors.New("request head too large")
		}
		text := strings.TrimRight(string(line), "\r\n")
		if first {
			h.method, _, _ = strings.Cut(text, " ")
			continue
		}
		if text == "" {
			return h, nil
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "host":
			if host, _, err := net.SplitHostPort(value); err == nil {
				value = host
			}
			h.host = strings.ToLower(value)
		case "content-length":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return h, fmt.Errorf("content-length %q", value)
			}
			h.contentLength = n
		case "transfer-encoding":
			return h, errors.New("the switch does not relay chunked request bodies")
		}
	}
}

// front is tokengate in one of its forms, listening on addr.
type front struct {
	name string
	addr string
}

// startTokengateProxy builds host/cmd/tokengate-proxy and runs it as users
// do, with the plugin module and cfg, in front of the switch.
func startTokengateProxy(t *testing.T, cfg string, upstreamPort int) *front {
	t.Helper()
	wasm := wasmbuild.Path(t)
	dir := t.TempDir()
	bin := daemon.Command(t, daemon.Proxy)
	cfgPath := filepath.Join(dir, "tokengate.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cacheDir := ""
	if c, err := os.UserCacheDir(); err == nil {
		cacheDir = filepath.Join(c, "tokengate-e2e", "wazero")
	}
	port := envoytest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	admin := fmt.Sprintf("127.0.0.1:%d", envoytest.FreePort(t))
	args := []string{"--plugin", wasm, "--config", cfgPath, "--listen", addr, "--admin-listen", admin,
		"--upstream", fmt.Sprintf("http://127.0.0.1:%d", upstreamPort), "--upstream-timeout", "20s"}
	if cacheDir != "" {
		args = append(args, "--cache-dir", cacheDir)
	}
	daemon.Start(t, "tokengate-proxy", bin, args...).WaitListening(t, addr, 120*time.Second)
	// The listener opens before the configuration is applied; /readyz on
	// the admin listener says when it is.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &front{name: "tokengate-proxy", addr: addr}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tokengate-proxy was not ready within 60s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startEnvoy runs Envoy on the repository's bootstrap template, unchanged,
// with the plugin module and cfg, in front of the switch.
func startEnvoy(t *testing.T, cfg string, upstreamPort int) *front {
	t.Helper()
	envoytest.Binary(t) // skip, or fail under TOKENGATE_REQUIRE_E2E, before building anything
	admin, listen := envoytest.FreePort(t), envoytest.FreePort(t)
	yaml, err := envoy.Render(envoy.Bootstrap{AdminPort: admin, ListenPort: listen, UpstreamPort: upstreamPort,
		WasmPath: wasmbuild.Path(t), PluginConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	e := envoytest.Start(t, yaml, admin, envoytest.Options{Concurrency: 1})
	addr := fmt.Sprintf("127.0.0.1:%d", listen)
	envoytest.WaitListening(t, addr, 30*time.Second)
	t.Cleanup(func() {
		if bad := e.WasmErrors(); len(bad) > 0 {
			t.Errorf("envoy logged %d Wasm errors, first: %s", len(bad), bad[0])
		}
	})
	return &front{name: "envoy", addr: addr}
}

// exchangeRaw sends raw on a new connection to addr and reads one answer.
func exchangeRaw(ctx context.Context, addr string, raw []byte, method string) (*http.Response, []byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	go func() { _, _ = conn.Write(raw) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return resp, body, err
	}
	return resp, bytes.TrimSpace(body), nil
}
