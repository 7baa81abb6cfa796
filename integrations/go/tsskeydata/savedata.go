// Package tsskeydata mirrors the JSON form of bnb-chain/tss-lib's keygen LocalPartySaveData (ECDSA
// on secp256k1 and EdDSA on ed25519) with the Go standard library only, so a node can check and load
// the keydata the Custos agent regenerates before handing it to tss-lib: the field names and order
// are tss-lib's structs', big integers are bare decimal JSON numbers (*big.Int), and points are
// {"Curve":…,"Coords":[X,Y]} checked to lie on their curve, as tss-lib's ECPoint.UnmarshalJSON does.
//
// Marshal writes exactly what tss-lib's json.Marshal writes, so Decode(b).Marshal() equals b for a
// file in tss-lib's own compact encoding (IsCompact reports it).
package tsskeydata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// ECPoint is tss-lib's crypto.ECPoint in JSON.
type ECPoint struct {
	Curve  string
	Coords [2]*big.Int
}

// PaillierPublicKey is tss-lib's paillier.PublicKey.
type PaillierPublicKey struct {
	N *big.Int
}

// PaillierPrivateKey is tss-lib's paillier.PrivateKey (the embedded public key's N comes first).
type PaillierPrivateKey struct {
	PaillierPublicKey
	LambdaN, PhiN, P, Q *big.Int
}

// MarshalJSON writes N at the top level, as Go does for tss-lib's embedded PublicKey.
func (k PaillierPrivateKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		N, LambdaN, PhiN, P, Q *big.Int
	}{k.N, k.LambdaN, k.PhiN, k.P, k.Q})
}

// UnmarshalJSON reads the object strictly (unknown fields refused).
func (k *PaillierPrivateKey) UnmarshalJSON(b []byte) error {
	var v struct {
		N, LambdaN, PhiN, P, Q *big.Int
	}
	if err := strictUnmarshal(b, &v); err != nil {
		return err
	}
	k.N, k.LambdaN, k.PhiN, k.P, k.Q = v.N, v.LambdaN, v.PhiN, v.P, v.Q
	return nil
}

// ECDSASaveData is tss-lib ecdsa/keygen.LocalPartySaveData (LocalPreParams and LocalSecrets
// embedded, so their fields are at the top level, in this order).
type ECDSASaveData struct {
	PaillierSK                           *PaillierPrivateKey
	NTildei, H1i, H2i, Alpha, Beta, P, Q *big.Int
	Xi, ShareID                          *big.Int
	Ks                                   []*big.Int
	NTildej, H1j, H2j                    []*big.Int
	BigXj                                []*ECPoint
	PaillierPKs                          []*PaillierPublicKey
	ECDSAPub                             *ECPoint
}

// EDDSASaveData is tss-lib eddsa/keygen.LocalPartySaveData.
type EDDSASaveData struct {
	Xi, ShareID *big.Int
	Ks          []*big.Int
	BigXj       []*ECPoint
	EDDSAPub    *ECPoint
}

// Keydata is one decoded file: exactly one of ECDSA and EDDSA is set.
type Keydata struct {
	ECDSA *ECDSASaveData
	EDDSA *EDDSASaveData
	// Curve is "secp256k1" (ECDSA) or "ed25519" (EdDSA).
	Curve string
	// PartyIndex is this party's position in Ks (ShareID = Ks[PartyIndex]); Parties is len(Ks).
	PartyIndex, Parties int
	// IsCompact is true when the decoded bytes are exactly tss-lib's json.Marshal output.
	IsCompact bool
}

// Error is a coded error (KEYDATA_INVALID or MALFORMED) with a sentence a person can act on.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func invalid(format string, a ...interface{}) error {
	return &Error{Code: "KEYDATA_INVALID", Message: fmt.Sprintf(format, a...)}
}

func strictUnmarshal(b []byte, v interface{}) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// Decode reads a tss-lib keydata file (compact or indented) and checks it is complete: every field
// present, the per-party vectors as long as Ks, ShareID one of Ks, every point on its curve.
func Decode(b []byte) (*Keydata, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, &Error{Code: "MALFORMED", Message: "the file is not a JSON object: " + err.Error()}
	}
	_, hasECDSA := probe["ECDSAPub"]
	_, hasEDDSA := probe["EDDSAPub"]
	out := &Keydata{}
	var marshalled []byte
	switch {
	case hasECDSA && hasEDDSA:
		return nil, invalid("the keydata has both ECDSAPub and EDDSAPub; it must be one or the other")
	case hasECDSA:
		var v ECDSASaveData
		if err := strictUnmarshal(b, &v); err != nil {
			return nil, invalid("the file is not a tss-lib ECDSA LocalPartySaveData: %v", err)
		}
		if err := checkECDSA(&v); err != nil {
			return nil, err
		}
		out.ECDSA, out.Curve = &v, "secp256k1"
		out.Parties = len(v.Ks)
		out.PartyIndex = indexOf(v.Ks, v.ShareID)
		marshalled, _ = json.Marshal(&v)
	case hasEDDSA:
		var v EDDSASaveData
		if err := strictUnmarshal(b, &v); err != nil {
			return nil, invalid("the file is not a tss-lib EdDSA LocalPartySaveData: %v", err)
		}
		if err := checkEDDSA(&v); err != nil {
			return nil, err
		}
		out.EDDSA, out.Curve = &v, "ed25519"
		out.Parties = len(v.Ks)
		out.PartyIndex = indexOf(v.Ks, v.ShareID)
		marshalled, _ = json.Marshal(&v)
	default:
		return nil, invalid("the file is not a tss-lib keydata: it has neither ECDSAPub (ECDSA) nor EDDSAPub (EdDSA)")
	}
	if out.PartyIndex < 0 {
		return nil, invalid("ShareID is not one of Ks: this is not the file of a party of this key")
	}
	out.IsCompact = bytes.Equal(marshalled, b)
	return out, nil
}

// Marshal writes the keydata as tss-lib's json.Marshal does (compact, struct order).
func (k *Keydata) Marshal() ([]byte, error) {
	if k.ECDSA != nil {
		return json.Marshal(k.ECDSA)
	}
	if k.EDDSA != nil {
		return json.Marshal(k.EDDSA)
	}
	return nil, invalid("empty keydata")
}

func indexOf(ks []*big.Int, id *big.Int) int {
	at := -1
	for i, k := range ks {
		if k != nil && id != nil && k.Cmp(id) == 0 {
			if at >= 0 {
				return -1 // a repeated party key
			}
			at = i
		}
	}
	return at
}

func positive(name string, v *big.Int) error {
	if v == nil {
		return invalid("%s is missing", name)
	}
	if v.Sign() <= 0 {
		return invalid("%s must be a positive integer", name)
	}
	return nil
}

func positives(name string, vs []*big.Int, n int) error {
	if len(vs) != n {
		return invalid("%s has %d entries; Ks has %d", name, len(vs), n)
	}
	for i, v := range vs {
		if err := positive(fmt.Sprintf("%s[%d]", name, i), v); err != nil {
			return err
		}
	}
	return nil
}

func points(name, curve string, ps []*ECPoint, n int) error {
	if len(ps) != n {
		return invalid("%s has %d entries; Ks has %d", name, len(ps), n)
	}
	for i, p := range ps {
		if err := point(fmt.Sprintf("%s[%d]", name, i), curve, p); err != nil {
			return err
		}
	}
	return nil
}

func checkCommon(xi, shareID *big.Int, ks []*big.Int) error {
	if err := positive("Xi", xi); err != nil {
		return err
	}
	if err := positive("ShareID", shareID); err != nil {
		return err
	}
	if len(ks) < 2 {
		return invalid("Ks has %d entries; a tss-lib key has at least 2 parties", len(ks))
	}
	return positives("Ks", ks, len(ks))
}

func checkECDSA(v *ECDSASaveData) error {
	if err := checkCommon(v.Xi, v.ShareID, v.Ks); err != nil {
		return err
	}
	if v.PaillierSK == nil {
		return invalid("PaillierSK is missing")
	}
	for name, x := range map[string]*big.Int{"PaillierSK.N": v.PaillierSK.N, "PaillierSK.LambdaN": v.PaillierSK.LambdaN, "PaillierSK.PhiN": v.PaillierSK.PhiN, "PaillierSK.P": v.PaillierSK.P, "PaillierSK.Q": v.PaillierSK.Q,
		"NTildei": v.NTildei, "H1i": v.H1i, "H2i": v.H2i, "Alpha": v.Alpha, "Beta": v.Beta, "P": v.P, "Q": v.Q} {
		if err := positive(name, x); err != nil {
			return err
		}
	}
	n := len(v.Ks)
	for name, xs := range map[string][]*big.Int{"NTildej": v.NTildej, "H1j": v.H1j, "H2j": v.H2j} {
		if err := positives(name, xs, n); err != nil {
			return err
		}
	}
	if len(v.PaillierPKs) != n {
		return invalid("PaillierPKs has %d entries; Ks has %d", len(v.PaillierPKs), n)
	}
	for i, pk := range v.PaillierPKs {
		if pk == nil {
			return invalid("PaillierPKs[%d] is missing", i)
		}
		if err := positive(fmt.Sprintf("PaillierPKs[%d].N", i), pk.N); err != nil {
			return err
		}
	}
	if err := points("BigXj", "secp256k1", v.BigXj, n); err != nil {
		return err
	}
	return point("ECDSAPub", "secp256k1", v.ECDSAPub)
}

func checkEDDSA(v *EDDSASaveData) error {
	if err := checkCommon(v.Xi, v.ShareID, v.Ks); err != nil {
		return err
	}
	if err := points("BigXj", "ed25519", v.BigXj, len(v.Ks)); err != nil {
		return err
	}
	return point("EDDSAPub", "ed25519", v.EDDSAPub)
}

// UnmarshalJSON reads a point strictly: both coordinates, a known curve.
func (p *ECPoint) UnmarshalJSON(b []byte) error {
	var v struct {
		Curve  string
		Coords []*big.Int
	}
	if err := strictUnmarshal(b, &v); err != nil {
		return err
	}
	if len(v.Coords) != 2 || v.Coords[0] == nil || v.Coords[1] == nil {
		return errors.New("a point must have two coordinates")
	}
	p.Curve, p.Coords = v.Curve, [2]*big.Int{v.Coords[0], v.Coords[1]}
	return nil
}

var (
	secpP = mustInt("115792089237316195423570985008687907853269984665640564039457584007908834671663")
	edP   = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// edD = -121665/121666 mod p, the ed25519 curve constant (RFC 8032 §5.1).
	edD = mustInt("37095705934669439343138083508754565189542113879843219016388785533085940283555")
)

func mustInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("bad constant " + s)
	}
	return v
}

// point checks the curve name and the curve equation (what tss-lib's ECPoint.UnmarshalJSON refuses).
func point(name, curve string, p *ECPoint) error {
	if p == nil {
		return invalid("%s is missing", name)
	}
	if p.Curve != curve {
		return invalid("%s is on curve %q; this keydata's points are on %q", name, p.Curve, curve)
	}
	x, y := p.Coords[0], p.Coords[1]
	var mod *big.Int
	if curve == "secp256k1" {
		mod = secpP
	} else {
		mod = edP
	}
	if x.Sign() < 0 || y.Sign() < 0 || x.Cmp(mod) >= 0 || y.Cmp(mod) >= 0 {
		return invalid("%s has a coordinate outside the field", name)
	}
	var lhs, rhs big.Int
	if curve == "secp256k1" { // y² = x³ + 7
		lhs.Mul(y, y).Mod(&lhs, mod)
		rhs.Mul(x, x).Mul(&rhs, x).Add(&rhs, big.NewInt(7)).Mod(&rhs, mod)
	} else { // −x² + y² = 1 + d·x²·y²
		var x2, y2 big.Int
		x2.Mul(x, x).Mod(&x2, mod)
		y2.Mul(y, y).Mod(&y2, mod)
		lhs.Sub(&y2, &x2).Mod(&lhs, mod)
		rhs.Mul(&x2, &y2).Mul(&rhs, edD).Add(&rhs, big.NewInt(1)).Mod(&rhs, mod)
	}
	if lhs.Cmp(&rhs) != 0 {
		return invalid("%s is not on the %s curve", name, curve)
	}
	return nil
}
