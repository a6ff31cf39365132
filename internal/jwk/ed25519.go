package jwk

import "math/big"

// Ed25519 public keys of small order (the identity and the other points whose
// order divides the cofactor 8) verify forged signatures: with the identity
// as the key, R = identity and S = 0 is a valid signature of every message
// under crypto/ed25519's cofactorless check. A key set that publishes such a
// key, by mistake or by tampering, would let anyone mint tokens, so these
// keys are refused like any other unusable key (RFC 8725 §3.4: validate all
// cryptographic inputs).
//
// The check decodes the point with big.Int arithmetic and multiplies it by
// 8: it runs once per key when a set is parsed, never per request.

var (
	edP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// edD is -121665/121666 mod p, the curve constant of edwards25519.
	edD = func() *big.Int {
		num := new(big.Int).Sub(edP, big.NewInt(121665))
		inv := new(big.Int).ModInverse(big.NewInt(121666), edP)
		return num.Mul(num, inv).Mod(num, edP)
	}()
)

// ed25519SmallOrder reports whether the 32-byte encoded point has small
// order; ok is false when the bytes do not encode a point at all.
func ed25519SmallOrder(enc []byte) (small, ok bool) {
	if len(enc) != 32 {
		return false, false
	}
	le := make([]byte, 32)
	for i := range 32 {
		le[31-i] = enc[i]
	}
	sign := le[0]>>7 == 1
	le[0] &= 0x7f
	// Reduce y: implementations differ on non-canonical encodings (y >= p),
	// and the reduced point is the one a lenient verifier would use.
	y := new(big.Int).SetBytes(le)
	y.Mod(y, edP)
	// x² = (y² - 1) / (d·y² + 1)
	y2 := new(big.Int).Mul(y, y)
	y2.Mod(y2, edP)
	u := new(big.Int).Sub(y2, big.NewInt(1))
	v := new(big.Int).Mul(edD, y2)
	v.Add(v, big.NewInt(1))
	vInv := new(big.Int).ModInverse(v.Mod(v, edP), edP)
	if vInv == nil {
		return false, false
	}
	x2 := u.Mul(u.Mod(u, edP), vInv)
	x2.Mod(x2, edP)
	x := new(big.Int).ModSqrt(x2, edP)
	if x == nil {
		return false, false
	}
	if (x.Bit(0) == 1) != sign {
		x.Sub(edP, x)
		x.Mod(x, edP)
	}
	for range 3 {
		x, y = edDouble(x, y)
	}
	return x.Sign() == 0 && y.Cmp(big.NewInt(1)) == 0, true
}

// edDouble returns 2·(x, y) with the complete twisted Edwards addition law
// for a = -1.
func edDouble(x, y *big.Int) (*big.Int, *big.Int) {
	xx := new(big.Int).Mul(x, x)
	yy := new(big.Int).Mul(y, y)
	xy := new(big.Int).Mul(x, y)
	dxxyy := new(big.Int).Mul(edD, new(big.Int).Mul(xx, yy))
	dxxyy.Mod(dxxyy, edP)
	one := big.NewInt(1)
	x3 := new(big.Int).Lsh(xy, 1)
	x3.Mul(x3, new(big.Int).ModInverse(new(big.Int).Mod(new(big.Int).Add(one, dxxyy), edP), edP))
	y3 := new(big.Int).Add(yy, xx)
	y3.Mul(y3, new(big.Int).ModInverse(new(big.Int).Mod(new(big.Int).Sub(one, dxxyy), edP), edP))
	return x3.Mod(x3, edP), y3.Mod(y3, edP)
}
