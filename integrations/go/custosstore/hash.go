package custosstore

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
)

// labelPrefix is the domain-separation prefix of every Custos hash (docs/protocol.md §3.2).
const labelPrefix = "custos/v1/"

var purposeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9/-]*$`)

// TaggedHash is shared/crypto/hash.ts's taggedHash:
//
//	SHA-256( "custos/v1/" ‖ purpose ‖ 0x00 ‖ for each part: len32be(part) ‖ part )
//
// A part is a string (its UTF-8 bytes), a []byte, or a non-negative integer (8 bytes, big-endian).
func TaggedHash(purpose string, parts ...interface{}) ([32]byte, error) {
	if !purposeRE.MatchString(purpose) {
		return [32]byte{}, newError(CodeInvalidParameters, fmt.Sprintf("bad hash purpose %q", purpose), nil)
	}
	h := sha256.New()
	h.Write([]byte(labelPrefix + purpose))
	h.Write([]byte{0})
	var n [4]byte
	for i, p := range parts {
		var b []byte
		switch v := p.(type) {
		case string:
			b = []byte(v)
		case []byte:
			b = v
		case int:
			if v < 0 {
				return [32]byte{}, newError(CodeInvalidParameters, fmt.Sprintf("hash part %d is a negative number", i), nil)
			}
			b = make([]byte, 8)
			binary.BigEndian.PutUint64(b, uint64(v))
		case uint64:
			b = make([]byte, 8)
			binary.BigEndian.PutUint64(b, v)
		default:
			return [32]byte{}, newError(CodeInvalidParameters, fmt.Sprintf("hash part %d has unsupported type %T", i, p), nil)
		}
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

func mustTaggedHash(purpose string, parts ...interface{}) [32]byte {
	out, err := TaggedHash(purpose, parts...)
	if err != nil {
		panic(err) // only called with constant purposes and checked parts
	}
	return out
}
