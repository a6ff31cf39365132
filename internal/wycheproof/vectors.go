package wycheproof

import (
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

//go:embed testdata/*.json
var files embed.FS

// Result is what a verifier must decide on a test vector.
type Result string

const (
	// Valid signatures must be accepted.
	Valid Result = "valid"
	// Invalid signatures must be refused.
	Invalid Result = "invalid"
	// Acceptable signatures are legitimately accepted or refused; the
	// vector's flags say why, and a verifier documents its choice.
	Acceptable Result = "acceptable"
)

// File is one Wycheproof vector file.
type File struct {
	Name          string          `json:"-"`
	Algorithm     string          `json:"algorithm"` // "RSASSA-PKCS1-v1_5", "RSASSA-PSS", "ECDSA", "EDDSA"
	Schema        string          `json:"schema"`
	NumberOfTests int             `json:"numberOfTests"`
	Notes         map[string]Note `json:"notes"`
	Groups        []Group         `json:"testGroups"`
}

// Note explains a flag.
type Note struct {
	BugType     string `json:"bugType"`
	Description string `json:"description"`
}

// Group is a set of tests that share a key and parameters.
type Group struct {
	Type      string    `json:"type"`
	KeySize   int       `json:"keySize"`
	SHA       string    `json:"sha"`    // "SHA-256", …; empty for EdDSA
	MGF       string    `json:"mgf"`    // PSS only: "MGF1"
	MGFSHA    string    `json:"mgfSha"` // PSS only
	SaltLen   int       `json:"sLen"`   // PSS only
	PublicKey PublicKey `json:"publicKey"`
	// PublicKeyDER is the key as a DER SubjectPublicKeyInfo.
	PublicKeyDER Hex    `json:"publicKeyDer"`
	Tests        []Test `json:"tests"`
}

// PublicKey holds the raw key fields; which are set depends on the key type.
// Integers are big-endian and may carry a leading zero octet (ASN.1 style)
// or fewer octets than the field size.
type PublicKey struct {
	Modulus        Hex    `json:"modulus"`        // RSA
	PublicExponent Hex    `json:"publicExponent"` // RSA
	Curve          string `json:"curve"`          // EC: "secp256r1", …; EdDSA: "edwards25519"
	WX             Hex    `json:"wx"`             // EC
	WY             Hex    `json:"wy"`             // EC
	PK             Hex    `json:"pk"`             // EdDSA: the 32-byte encoded point
}

// Test is one vector: Sig over Msg, and what must be decided.
type Test struct {
	ID      int      `json:"tcId"`
	Comment string   `json:"comment"`
	Flags   []string `json:"flags"`
	Msg     Hex      `json:"msg"`
	Sig     Hex      `json:"sig"`
	Result  Result   `json:"result"`
}

// Hex is a byte string written in hexadecimal.
type Hex []byte

// UnmarshalJSON decodes a JSON string of hex digits.
func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("wycheproof: hex field: %w", err)
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("wycheproof: hex field %q: %w", s, err)
	}
	*h = v
	return nil
}

// Files lists the embedded vector files by name, sorted.
func Files() []string {
	entries, err := fs.Glob(files, "testdata/*.json")
	if err != nil {
		panic(err) // the pattern is a constant
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = path.Base(e)
	}
	slices.Sort(names)
	return names
}

// Load reads and checks one embedded file: the test count must match the
// header and every result must be one of the three known ones, so that a
// truncated or reformatted file fails instead of testing less.
func Load(name string) (*File, error) {
	b, err := files.ReadFile("testdata/" + name)
	if err != nil {
		return nil, fmt.Errorf("wycheproof: %w", err)
	}
	f := &File{Name: name}
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("wycheproof: %s: %w", name, err)
	}
	n := 0
	for _, g := range f.Groups {
		for _, tc := range g.Tests {
			switch tc.Result {
			case Valid, Invalid, Acceptable:
			default:
				return nil, fmt.Errorf("wycheproof: %s: test %d has result %q", name, tc.ID, tc.Result)
			}
			n++
		}
	}
	if n == 0 || n != f.NumberOfTests {
		return nil, fmt.Errorf("wycheproof: %s: holds %d tests, its header says %d", name, n, f.NumberOfTests)
	}
	return f, nil
}

// FileGroup is one group of test cases with where it comes from: its file,
// its index in the file, and the JWS algorithm its parameters are.
type FileGroup struct {
	*Group
	File  string
	Index int
	Alg   string
}

// Groups loads every embedded file (Load) and returns all their groups in
// order, each with its algorithm (Group.Algorithm): the loop every
// verifier's Wycheproof test runs.
func Groups() ([]FileGroup, error) {
	var out []FileGroup
	for _, name := range Files() {
		f, err := Load(name)
		if err != nil {
			return nil, err
		}
		for i := range f.Groups {
			alg, err := f.Groups[i].Algorithm(f)
			if err != nil {
				return nil, err
			}
			out = append(out, FileGroup{Group: &f.Groups[i], File: name, Index: i, Alg: alg})
		}
	}
	return out, nil
}

// ErrNotJOSE reports a group whose parameters are not those of any JWS
// algorithm.
var ErrNotJOSE = errors.New("wycheproof: parameters are not a JWS algorithm")

// Algorithm returns the JWS "alg" whose parameters are exactly the group's
// (RFC 7518 §3.3–3.5, RFC 8037 §3.1), or ErrNotJOSE.
func (g *Group) Algorithm(f *File) (string, error) {
	bits := map[string]string{"SHA-256": "256", "SHA-384": "384", "SHA-512": "512"}[g.SHA]
	switch f.Algorithm {
	case "RSASSA-PKCS1-v1_5":
		if bits != "" && g.Type == "RsassaPkcs1Verify" {
			return "RS" + bits, nil
		}
	case "RSASSA-PSS":
		// RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
		if bits != "" && g.Type == "RsassaPssVerify" && g.MGF == "MGF1" && g.MGFSHA == g.SHA &&
			g.SaltLen*8 == map[string]int{"256": 256, "384": 384, "512": 512}[bits] {
			return "PS" + bits, nil
		}
	case "ECDSA":
		curve := map[string]string{"256": "secp256r1", "384": "secp384r1", "512": "secp521r1"}[bits]
		if bits != "" && g.Type == "EcdsaP1363Verify" && g.PublicKey.Curve == curve {
			return "ES" + bits, nil
		}
	case "EDDSA":
		if g.Type == "EddsaVerify" && g.PublicKey.Curve == "edwards25519" {
			return "EdDSA", nil
		}
	}
	return "", fmt.Errorf("%w: %s %s %s sha=%q mgf=%q/%q sLen=%d curve=%q", ErrNotJOSE, f.Name, f.Algorithm, g.Type,
		g.SHA, g.MGF, g.MGFSHA, g.SaltLen, g.PublicKey.Curve)
}

// JWK encodes the group's public key as an RFC 7517 JSON Web Key, built
// from the raw fields (not copied from the file's own JWK) in the form RFC
// 7518 §6 requires: "n" and "e" without leading zero octets, EC coordinates
// padded to the full field size.
func (g *Group) JWK() ([]byte, error) {
	k := g.PublicKey
	var m map[string]string
	switch {
	case len(k.Modulus) > 0:
		m = map[string]string{"kty": "RSA", "n": b64(trim(k.Modulus)), "e": b64(trim(k.PublicExponent))}
	case len(k.WX) > 0:
		crv, size := map[string]string{"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[k.Curve],
			map[string]int{"secp256r1": 32, "secp384r1": 48, "secp521r1": 66}[k.Curve]
		if crv == "" {
			return nil, fmt.Errorf("wycheproof: curve %q has no JWK name", k.Curve)
		}
		x, err := pad(k.WX, size)
		if err != nil {
			return nil, err
		}
		y, err := pad(k.WY, size)
		if err != nil {
			return nil, err
		}
		m = map[string]string{"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)}
	case len(k.PK) > 0:
		m = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(k.PK)}
	default:
		return nil, errors.New("wycheproof: the group has no public key")
	}
	return json.Marshal(m)
}

// trim drops leading zero octets of a big-endian integer.
func trim(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// pad writes a big-endian integer in exactly size octets.
func pad(b []byte, size int) ([]byte, error) {
	b = trim(b)
	if len(b) > size {
		return nil, fmt.Errorf("wycheproof: coordinate of %d octets does not fit %d", len(b), size)
	}
	return append(make([]byte, size-len(b)), b...), nil
}

var b64 = base64.RawURLEncoding.EncodeToString
