package hostverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/host/hostcrypto"
	"github.com/tokengate/tokengate/internal/abi"
)

// fakeHost offers verify_signature through fn (nil: the host has no such
// function) and keeps the log.
type fakeHost struct {
	fn    func(args []byte) ([]byte, error)
	calls int
	logs  []string
}

func (h *fakeHost) CallForeignFunction(name string, args []byte) ([]byte, error) {
	if name != hostcrypto.FunctionName || h.fn == nil {
		return nil, types.ErrorStatusNotFound
	}
	h.calls++
	return h.fn(args)
}

func (h *fakeHost) Log(level abi.LogLevel, msg string) {
	h.logs = append(h.logs, [...]string{"trace", "debug", "info", "warn", "error", "critical"}[level]+": "+msg)
}

var (
	acceptAll = func([]byte) ([]byte, error) { return []byte{0x08, 0x01}, nil } // result: true
	refuseAll = func([]byte) ([]byte, error) { return nil, nil }                // result: false
	failAll   = func([]byte) ([]byte, error) { return nil, errors.New("backend unavailable") }
)

func TestVerifierIsChosenByTheSelfTest(t *testing.T) {
	tests := []struct {
		name   string
		fn     func([]byte) ([]byte, error)
		usable bool
		calls  int    // host calls of the self-test
		log    string // the line the choice logs
	}{
		{"a host without verify_signature is not used", nil, false, 0,
			"debug: signatures are verified in the module: the host's verify_signature is unavailable: error status returned by host: not found"},
		{"a host whose function fails is not used", failAll, false, 1,
			"debug: signatures are verified in the module: the host's verify_signature is unavailable: backend unavailable"},
		{"a host that accepts every signature is not trusted", acceptAll, false, 2,
			"warn: signatures are verified in the module: the host's verify_signature answered its self-test wrongly"},
		{"a host that refuses every signature is not trusted", refuseAll, false, 2,
			"warn: signatures are verified in the module: the host's verify_signature answered its self-test wrongly"},
		{"a host that fails only on the forged signature is not trusted", failSecond(hostcrypto.VerifySignature), false, 2,
			"warn: signatures are verified in the module: the host's verify_signature answered its self-test wrongly"},
		{"a host that answers like Envoy is used", hostcrypto.VerifySignature, true, 2,
			"info: RS256/384/512 and ES256/384/512 signatures are verified by the host's verify_signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHost{fn: tt.fn}
			c := New(h)
			if h.calls != 0 || len(h.logs) != 0 {
				t.Fatalf("New made %d host calls and logged %q; it must make none (it runs in _initialize)", h.calls, h.logs)
			}
			if got := c.Verifier() != nil; got != tt.usable {
				t.Errorf("verifier chosen: %v, want %v", got, tt.usable)
			}
			// A second configuration of the same VM does not test again.
			if got := c.Verifier() != nil; got != tt.usable {
				t.Errorf("second configuration: verifier chosen: %v, want %v", got, tt.usable)
			}
			if h.calls != tt.calls {
				t.Errorf("the self-test called the host %d times, want %d", h.calls, tt.calls)
			}
			if len(h.logs) != 1 || h.logs[0] != tt.log {
				t.Errorf("logged %q, want exactly %q", h.logs, tt.log)
			}
		})
	}
}

// failSecond answers the first call with fn and fails every later one.
func failSecond(fn func([]byte) ([]byte, error)) func([]byte) ([]byte, error) {
	n := 0
	return func(b []byte) ([]byte, error) {
		if n++; n > 1 {
			return nil, errors.New("backend unavailable")
		}
		return fn(b)
	}
}

func TestVerifierHandsOnlyComparableSignaturesToTheHost(t *testing.T) {
	input := []byte("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9")
	digest := sha256.Sum256(input)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, s, err := ecdsa.Sign(rand.Reader, ec, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	es256 := make([]byte, 64)
	r.FillBytes(es256[:32])
	s.FillBytes(es256[32:])
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte) []byte { b = append([]byte(nil), b...); b[len(b)/2] ^= 1; return b }

	tests := []struct {
		name        string
		fn          func([]byte) ([]byte, error) // verify_signature after a passed self-test
		alg         string
		key         crypto.PublicKey
		sig         []byte
		ok, handled bool
		asked       bool // the host was called for the request
	}{
		{"a valid ES256 signature is accepted by the host", nil, "ES256", &ec.PublicKey, es256, true, true, true},
		{"a forged ES256 signature is refused by the host", nil, "ES256", &ec.PublicKey, flip(es256), false, true, true},
		{"a valid RS256 signature is accepted by the host", nil, "RS256", &rk.PublicKey, rs256, true, true, true},
		{"a forged RS256 signature is refused by the host", nil, "RS256", &rk.PublicKey, flip(rs256), false, true, true},
		{"an RSA signature shorter than the modulus stays in the module", nil, "RS256", &rk.PublicKey, rs256[1:], false, false, false},
		{"PS256 stays in the module", nil, "PS256", &rk.PublicKey, rs256, false, false, false},
		{"an Ed25519 key stays in the module", nil, "EdDSA", edPub, ed25519.Sign(edKey, input), false, false, false},
		{"an ES256 signature of the wrong length stays in the module", nil, "ES256", &ec.PublicKey, es256[:63], false, false, false},
		{"a failed host call leaves the decision to the module", failAll, "ES256", &ec.PublicKey, es256, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHost{fn: hostcrypto.VerifySignature}
			v := New(h).Verifier()
			if v == nil {
				t.Fatalf("the host's twin failed the self-test: %q", h.logs)
			}
			if tt.fn != nil {
				h.fn = tt.fn
			}
			before := h.calls
			ok, handled := v(tt.alg, tt.key, string(input), tt.sig)
			if ok != tt.ok || handled != tt.handled {
				t.Errorf("got ok=%v handled=%v, want ok=%v handled=%v", ok, handled, tt.ok, tt.handled)
			}
			if asked := h.calls > before; asked != tt.asked {
				t.Errorf("host asked: %v, want %v", asked, tt.asked)
			}
		})
	}
}

func TestKeysAreEncodedOnceAndTheCacheIsBounded(t *testing.T) {
	c := New(&fakeHost{fn: acceptAll})
	sig := make([]byte, 64)
	sig[31], sig[63] = 1, 1
	newKey := func() *ecdsa.PublicKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &k.PublicKey
	}
	first := newKey()
	for range 2 {
		if ok, handled := c.verify("ES256", first, "a.b", sig); !ok || !handled {
			t.Fatalf("verify = %v, %v; want the host's answer (true, true)", ok, handled)
		}
	}
	encoded := c.keys[first]
	if len(c.keys) != 1 || encoded == nil {
		t.Fatalf("after two checks with one key the cache holds %d keys, want that one", len(c.keys))
	}
	c.verify("ES256", first, "a.b", sig)
	if c.keys[first] != encoded {
		t.Fatal("a cached key was encoded again")
	}
	for i := range maxKeys + 10 {
		c.verify("ES256", newKey(), "a.b", sig)
		if len(c.keys) > maxKeys {
			t.Fatalf("after %d more keys the cache holds %d, more than %d", i+1, len(c.keys), maxKeys)
		}
	}
	if _, still := c.keys[first]; still {
		t.Fatal("the cache was never emptied although more than maxKeys keys went through it")
	}
}
