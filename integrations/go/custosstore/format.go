package custosstore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sealed format, version 2 written, versions 1 and 2 read (docs/storage.md §2):
//
//	"CSTS" ‖ version ‖ kind ‖ len(kekID) ‖ kekID ‖ len(wrapped) ‖ wrapped ‖ nonce(12) ‖ ciphertext ‖ tag(16)
//
//	context = TaggedHash("agent/secret-file", kindName, owner parts...)
//	AAD v1  = header (magic through nonce) ‖ context
//	AAD v2  = magic ‖ version ‖ kind ‖ context (the KEK id and wrapped key are authenticated by the
//	          wrap's own tag, so a KEK rotation replaces only them)
//	v2 retained shares: the data key is wrapped under the share's erase key (KEK.WrapErasable).
const (
	// FormatVersion is the version Seal writes; Open reads it and version 1.
	FormatVersion = 2
	// MaxSealedBytes is the largest sealed file read (an ECDSA keydata is about 20 KB).
	MaxSealedBytes = 4 * 1024 * 1024
)

var magic = []byte("CSTS")

// Kind is the purpose of a sealed file (its header byte 5).
type Kind byte

const (
	KindShare           Kind = 1 // keys/<key_id>/<node_id>.enc: the node's secret record
	KindKeydata         Kind = 2 // keys/<key_id>/<node_id>.keydata.enc: tss-lib LocalPartySaveData, compact JSON
	KindRetainedShare   Kind = 3 // backup/<key_id>/<node_id>/<set_id>/<index>.enc: a Shamir share the server keeps
	KindAgentIdentity   Kind = 4 // agent/identity.enc: the agent's Ed25519 seed
	KindSessionIdentity Kind = 5 // a recovery session's age identity (stored in the agent's database, not a file)
)

// Name is the kind's name as hashed into the file context.
func (k Kind) Name() string {
	switch k {
	case KindShare:
		return "share"
	case KindKeydata:
		return "keydata"
	case KindRetainedShare:
		return "retained-share"
	case KindAgentIdentity:
		return "agent-identity"
	case KindSessionIdentity:
		return "session-identity"
	}
	return fmt.Sprintf("kind-%d", byte(k))
}

// Ref names one sealed file: its kind and owner. Use the constructors.
type Ref struct {
	Kind      Kind
	KeyID     string
	NodeID    string
	SetID     string // retained shares: 32 lower-case hex digits
	Index     int    // retained shares: 1..255
	SessionID string // session identities: 32 lower-case hex digits
}

// ShareRef names keys/<keyID>/<nodeID>.enc.
func ShareRef(keyID, nodeID string) Ref { return Ref{Kind: KindShare, KeyID: keyID, NodeID: nodeID} }

// KeydataRef names keys/<keyID>/<nodeID>.keydata.enc.
func KeydataRef(keyID, nodeID string) Ref {
	return Ref{Kind: KindKeydata, KeyID: keyID, NodeID: nodeID}
}

// RetainedShareRef names backup/<keyID>/<nodeID>/<setID>/<index>.enc.
func RetainedShareRef(keyID, nodeID, setID string, index int) Ref {
	return Ref{Kind: KindRetainedShare, KeyID: keyID, NodeID: nodeID, SetID: setID, Index: index}
}

// AgentIdentityRef names agent/identity.enc.
func AgentIdentityRef() Ref { return Ref{Kind: KindAgentIdentity} }

// SessionIdentityRef names a session key blob (sealed in the agent's database).
func SessionIdentityRef(sessionID string) Ref {
	return Ref{Kind: KindSessionIdentity, SessionID: sessionID}
}

var (
	identifierRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	hex16RE      = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)
	kekIDRE      = regexp.MustCompile(`^[\x21-\x7e]{1,200}$`)
)

func checkIdentifier(v, what string) error {
	if !identifierRE.MatchString(v) {
		return newError(CodeInvalidParameters, fmt.Sprintf("the %s must be 1 to 128 letters, digits or . _ : - starting with a letter or digit", what), nil)
	}
	return nil
}

// Check validates the reference's identifiers (the agent's rules, agent/ids.ts) and returns a clean
// copy (hex ids in lower case), so nothing unchecked reaches a path or a hash.
func (r Ref) Check() (Ref, error) {
	out := Ref{Kind: r.Kind}
	switch r.Kind {
	case KindShare, KindKeydata, KindRetainedShare:
		if err := checkIdentifier(r.KeyID, "key_id"); err != nil {
			return Ref{}, err
		}
		if err := checkIdentifier(r.NodeID, "node_id"); err != nil {
			return Ref{}, err
		}
		if strings.HasSuffix(strings.ToLower(r.NodeID), ".keydata") {
			return Ref{}, newError(CodeInvalidParameters, `a node_id may not end in ".keydata" (it would clash with the keydata file names)`, nil)
		}
		out.KeyID, out.NodeID = r.KeyID, r.NodeID
		if r.Kind == KindRetainedShare {
			if !hex16RE.MatchString(r.SetID) {
				return Ref{}, newError(CodeInvalidParameters, "the set_id must be 32 hexadecimal digits", nil)
			}
			if r.Index < 1 || r.Index > 255 {
				return Ref{}, newError(CodeInvalidParameters, "a share index must be a whole number from 1 to 255", nil)
			}
			out.SetID, out.Index = strings.ToLower(r.SetID), r.Index
		}
	case KindAgentIdentity:
	case KindSessionIdentity:
		if !hex16RE.MatchString(r.SessionID) {
			return Ref{}, newError(CodeInvalidParameters, "the session_id must be 32 hexadecimal digits", nil)
		}
		out.SessionID = strings.ToLower(r.SessionID)
	default:
		return Ref{}, newError(CodeInvalidParameters, fmt.Sprintf("unknown secret file kind %d", byte(r.Kind)), nil)
	}
	return out, nil
}

// Context is the 32-byte value that binds a sealed file to its kind and owner (docs/storage.md §3).
// The reference must have passed Check.
func (r Ref) Context() [32]byte {
	switch r.Kind {
	case KindShare, KindKeydata:
		return mustTaggedHash("agent/secret-file", r.Kind.Name(), r.KeyID, r.NodeID)
	case KindRetainedShare:
		return mustTaggedHash("agent/secret-file", r.Kind.Name(), r.KeyID, r.NodeID, r.SetID, r.Index)
	case KindSessionIdentity:
		return mustTaggedHash("agent/secret-file", r.Kind.Name(), r.SessionID)
	default:
		return mustTaggedHash("agent/secret-file", r.Kind.Name())
	}
}

// String describes the file for messages (never its content).
func (r Ref) String() string {
	switch r.Kind {
	case KindShare:
		return fmt.Sprintf("the secret share record of key %s node %s", r.KeyID, r.NodeID)
	case KindKeydata:
		return fmt.Sprintf("the keydata file of key %s node %s", r.KeyID, r.NodeID)
	case KindRetainedShare:
		set := r.SetID
		if len(set) > 8 {
			set = set[:8]
		}
		return fmt.Sprintf("retained share %d of key %s node %s (set %s)", r.Index, r.KeyID, r.NodeID, set)
	case KindAgentIdentity:
		return "the agent identity"
	case KindSessionIdentity:
		s := r.SessionID
		if len(s) > 8 {
			s = s[:8]
		}
		return "the key of recovery session " + s
	}
	return "an unknown secret file"
}

func corrupt(r Ref, why string, cause error) *Error {
	what := r.String()
	return newError(CodeCorruptFile, strings.ToUpper(what[:1])+what[1:]+" is unusable: "+why+". It was not changed; restore it from backup or run a recovery.", cause)
}

// Seal encrypts plaintext as the content of ref with a fresh data key wrapped by kek.
func Seal(kek KEK, ref Ref, plaintext []byte) ([]byte, error) {
	r, err := ref.Check()
	if err != nil {
		return nil, err
	}
	kekID := kek.ID()
	if !kekIDRE.MatchString(kekID) {
		return nil, newError(CodeInvalidParameters, "a KEK id must be 1..200 printable ASCII characters", nil)
	}
	context := r.Context()
	dataKey := make([]byte, keyBytes)
	defer wipe(dataKey)
	if _, err := rand.Read(dataKey); err != nil {
		return nil, err
	}
	var wrapped []byte
	if r.Kind == KindRetainedShare {
		wrapped, err = kek.WrapErasable(dataKey, context, r.SetID, r.Index)
	} else {
		wrapped, err = kek.Wrap(dataKey, context)
	}
	if err != nil {
		return nil, err
	}
	if len(wrapped) < 1 || len(wrapped) > 255 {
		return nil, newError(CodeInvalidParameters, "the KEK returned a wrapped key of an unsupported size", nil)
	}
	nonce := make([]byte, nonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return sealWith(r, FormatVersion, kekID, wrapped, dataKey, nonce, plaintext)
}

// aadOf is the payload's associated data in a given format version.
func aadOf(version byte, header []byte, context [32]byte) []byte {
	if version == 1 {
		return append(append([]byte(nil), header...), context[:]...)
	}
	return append(append([]byte(nil), header[:6]...), context[:]...)
}

// sealWith is Seal with the version and the random parts given (the worked examples in
// docs/storage.md use it).
func sealWith(r Ref, version byte, kekID string, wrapped, dataKey, nonce, plaintext []byte) ([]byte, error) {
	header := make([]byte, 0, 8+len(kekID)+len(wrapped)+nonceBytes)
	header = append(header, magic...)
	header = append(header, version, byte(r.Kind), byte(len(kekID)))
	header = append(header, kekID...)
	header = append(header, byte(len(wrapped)))
	header = append(header, wrapped...)
	header = append(header, nonce...)
	g, err := gcmOf(dataKey)
	if err != nil {
		return nil, err
	}
	aad := aadOf(version, header, r.Context())
	out := make([]byte, len(header), len(header)+len(plaintext)+tagBytes)
	copy(out, header)
	return g.Seal(out, nonce, plaintext, aad), nil
}

func gcmOf(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Header is what a sealed file's header says, before anything is authenticated.
type Header struct {
	Version byte
	Kind    Kind
	KEKID   string
	Wrapped []byte
	Nonce   []byte
	// Length of the header in bytes (the ciphertext starts here).
	Length int
}

// ParseHeader reads a sealed file's header as the given ref expects it; nothing in it is trusted
// until Open has checked the tag.
func ParseHeader(ref Ref, sealed []byte) (Header, error) {
	at := 0
	take := func(n int) ([]byte, error) {
		if at+n > len(sealed) {
			return nil, corrupt(ref, "it is truncated", nil)
		}
		b := sealed[at : at+n]
		at += n
		return b, nil
	}
	m, err := take(4)
	if err != nil {
		return Header{}, err
	}
	if !bytes.Equal(m, magic) {
		return Header{}, corrupt(ref, "it is not an agent secret file", nil)
	}
	fixed, err := take(3)
	if err != nil {
		return Header{}, err
	}
	version, kind, kekLen := fixed[0], fixed[1], int(fixed[2])
	if version != 1 && version != 2 {
		return Header{}, corrupt(ref, fmt.Sprintf("it has format version %d, this build reads 1 and 2", version), nil)
	}
	if Kind(kind) != ref.Kind {
		return Header{}, corrupt(ref, "it holds another kind of secret (a file was put in the wrong place)", nil)
	}
	if kekLen < 1 || kekLen > 200 {
		return Header{}, corrupt(ref, "its header is damaged", nil)
	}
	kekID, err := take(kekLen)
	if err != nil {
		return Header{}, err
	}
	if !kekIDRE.Match(kekID) {
		return Header{}, corrupt(ref, "its header is damaged", nil)
	}
	wl, err := take(1)
	if err != nil {
		return Header{}, err
	}
	if wl[0] < 1 {
		return Header{}, corrupt(ref, "its header is damaged", nil)
	}
	wrapped, err := take(int(wl[0]))
	if err != nil {
		return Header{}, err
	}
	nonce, err := take(nonceBytes)
	if err != nil {
		return Header{}, err
	}
	if len(sealed)-at < tagBytes {
		return Header{}, corrupt(ref, "it is truncated", nil)
	}
	return Header{Version: version, Kind: Kind(kind), KEKID: string(kekID), Wrapped: wrapped, Nonce: nonce, Length: at}, nil
}

// Open authenticates and decrypts sealed as the content of ref. Nothing is returned unless both the
// wrapped data key and the file's GCM tag authenticate; a damaged file, or one moved to another
// key, node, set, index or kind, is CORRUPT_FILE.
func Open(kek KEK, ref Ref, sealed []byte) ([]byte, error) {
	r, err := ref.Check()
	if err != nil {
		return nil, err
	}
	h, err := ParseHeader(r, sealed)
	if err != nil {
		return nil, err
	}
	context := r.Context()
	var dataKey []byte
	if h.Version >= 2 && r.Kind == KindRetainedShare {
		dataKey, err = kek.UnwrapErasable(append([]byte(nil), h.Wrapped...), context, h.KEKID, r.SetID, r.Index)
	} else {
		dataKey, err = kek.Unwrap(append([]byte(nil), h.Wrapped...), context, h.KEKID)
	}
	if err != nil {
		var coded *Error
		if errors.As(err, &coded) && coded.Code != CodeCorruptFile {
			return nil, err
		}
		why := "it does not authenticate (damaged, or another key's or node's file put in its place)"
		if coded != nil {
			why += ": " + coded.Message
		}
		return nil, corrupt(r, why, err)
	}
	defer wipe(dataKey)
	g, err := gcmOf(dataKey)
	if err != nil {
		return nil, corrupt(r, "its data key is unusable", err)
	}
	plain, err := g.Open(nil, h.Nonce, sealed[h.Length:], aadOf(h.Version, sealed[:h.Length], context))
	if err != nil {
		return nil, corrupt(r, "it does not authenticate (damaged, or another key's or node's file put in its place)", err)
	}
	return plain, nil
}
