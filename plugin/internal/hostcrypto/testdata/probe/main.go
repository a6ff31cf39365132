//go:build wasip1

// Command probe is a Proxy-Wasm module that asks the host's verify_signature
// foreign function to check the signatures listed in its plugin
// configuration, and logs what the host answered and how long it took, next
// to the same check done inside the module. envoy_test.go builds it, loads it
// in Envoy and reads the log.
//
// Configuration, one case per line, fields separated by spaces:
//
//	name alg hash spki-hex signature-hex text-hex iterations
//
// The signature is in the form the host expects (DER for ECDSA); an empty
// hex field is written "-". Each case
// logs "probe name answer=accepted|refused(reason)|call-error:..."
// and, when iterations > 0, "probe-time name host_ns=N module_ns=M". A line
// "detect" calls the function with empty arguments.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/proxy-wasm-go-sdk/proxywasm/types"

	"github.com/tokengate/tokengate/plugin/internal/hostcrypto"
	"github.com/tokengate/tokengate/plugin/internal/proxywasm"
)

func main() {}

func init() { proxywasm.SetVMContext(&vm{}) }

type vm struct{ types.DefaultVMContext }

func (*vm) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

type plugin struct{ types.DefaultPluginContext }

func (*plugin) OnPluginStart(size int) types.OnPluginStartStatus {
	cfg, err := proxywasm.GetPluginConfiguration(size)
	if err != nil {
		proxywasm.LogError("probe: no configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	for _, line := range strings.Split(strings.TrimSpace(string(cfg)), "\n") {
		runCase(strings.Fields(line))
	}
	proxywasm.LogInfo("probe done")
	return types.OnPluginStartStatusOK
}

func runCase(f []string) {
	if len(f) == 1 && f[0] == "detect" {
		// What a filter sees when it asks with no arguments, as a cheap
		// check that the function exists.
		proxywasm.LogInfo("probe detect answer=" + ask(nil))
		return
	}
	if len(f) != 7 {
		proxywasm.LogError("probe: a case needs 7 fields: " + strings.Join(f, " "))
		return
	}
	name, alg, hash := f[0], f[1], f[2]
	spki, err1 := unhex(f[3])
	sig, err2 := unhex(f[4])
	text, err3 := unhex(f[5])
	n, err4 := strconv.Atoi(f[6])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		proxywasm.LogError("probe: case " + name + " is malformed")
		return
	}
	args := hostcrypto.EncodeArguments(hash, spki, sig, text)
	proxywasm.LogInfo("probe " + name + " answer=" + ask(args))
	if n <= 0 {
		return
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		ask(args)
	}
	hostNs := time.Since(start).Nanoseconds() / int64(n)
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		proxywasm.LogError("probe: case " + name + ": " + err.Error())
		return
	}
	start = time.Now()
	ok := false
	for i := 0; i < n; i++ {
		ok = verifyInModule(alg, pub, text, sig)
	}
	moduleNs := time.Since(start).Nanoseconds() / int64(n)
	proxywasm.LogInfo("probe-time " + name + " host_ns=" + strconv.FormatInt(hostNs, 10) +
		" module_ns=" + strconv.FormatInt(moduleNs, 10) + " module_ok=" + strconv.FormatBool(ok))
}

// unhex decodes a hex field; "-" stands for no bytes, since an empty field
// would vanish between the spaces.
func unhex(s string) ([]byte, error) {
	if s == "-" {
		return nil, nil
	}
	return hex.DecodeString(s)
}

// ask calls verify_signature and names the answer.
func ask(args []byte) string {
	reply, err := proxywasm.CallForeignFunction(hostcrypto.ForeignFunctionName, args)
	if err != nil {
		return "call-error:" + strings.ReplaceAll(err.Error(), " ", "_")
	}
	ok, hostErr, err := hostcrypto.DecodeResult(reply)
	switch {
	case err != nil:
		return "call-error:" + strings.ReplaceAll(err.Error(), " ", "_")
	case ok:
		return "accepted"
	}
	// Envoy answers every failure with result=false and a reason; the
	// reason tells a wrong signature from a key or hash it cannot use.
	return "refused(" + strings.ReplaceAll(hostErr, " ", "_") + ")"
}

// verifyInModule is the in-module equivalent, for the timing comparison.
func verifyInModule(alg string, pub any, text, sig []byte) bool {
	var h crypto.Hash
	var d []byte
	switch alg[2:] {
	case "256":
		s := sha256.Sum256(text)
		h, d = crypto.SHA256, s[:]
	case "384":
		s := sha512.Sum384(text)
		h, d = crypto.SHA384, s[:]
	default:
		s := sha512.Sum512(text)
		h, d = crypto.SHA512, s[:]
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg[0] == 'P' {
			return rsa.VerifyPSS(k, h, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(k, h, d, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(k, d, sig)
	case ed25519.PublicKey:
		return ed25519.Verify(k, text, sig)
	}
	return false
}
