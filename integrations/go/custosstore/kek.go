package custosstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// KEKFile is the local key-encryption key's file name in the agent's data directory.
const KEKFile = "kek.key"

const (
	keyBytes   = 32
	nonceBytes = 12
	tagBytes   = 16
	// wrapLabel is prepended to the file context as the wrapping's associated data (agent/kek/file.ts).
	wrapLabel = "custos/agent/kek-wrap/v1\x00"
	// eraseFileLabel: an erase key file's associated data (with the share's context).
	eraseFileLabel = "custos/agent/erase-key/v1\x00"
	// eraseWrapLabel: a data key wrapped under an erase key, its associated data (with the context).
	eraseWrapLabel = "custos/agent/kek-wrap/erase/v1\x00"
	wrappedBytes   = nonceBytes + keyBytes + tagBytes
)

// KEK wraps and unwraps the 32-byte data keys of sealed files. Only the local-file KEK is
// implemented here; with an HSM KEK the node gets its keydata through the agent (docs/storage.md §6).
type KEK interface {
	// ID names the key; it is written in every sealed file's header.
	ID() string
	// Wrap wraps a 32-byte data key, binding the 32-byte file context.
	Wrap(dataKey []byte, context [32]byte) ([]byte, error)
	// Unwrap returns the data key only when the wrapped key authenticates under kekID and context.
	Unwrap(wrapped []byte, context [32]byte, kekID string) ([]byte, error)
	// WrapErasable wraps a retained share's data key under that share's erase key (created when
	// missing), which lives with the KEK, outside the data directory (docs/storage.md §4).
	WrapErasable(dataKey []byte, context [32]byte, setID string, index int) ([]byte, error)
	// UnwrapErasable is Unwrap for WrapErasable; CORRUPT_FILE when the erase key was destroyed.
	UnwrapErasable(wrapped []byte, context [32]byte, kekID, setID string, index int) ([]byte, error)
}

// LocalFileKEK is the agent's default KEK: 32 random bytes in <data>/kek.key (mode 0600), used as an
// AES-256-GCM key. Its ID is "local-file:" and the first 16 hex digits of TaggedHash("agent/kek-id", key).
//
// Its erase keys are files `<key file>.erase/<set_id>-<index>.key` (0600), each
// nonce(12) ‖ AES-256-GCM(kek, nonce, aad = eraseFileLabel ‖ context, erase key), so a key made
// from bytes alone (NewLocalFileKEK) has none and refuses retained shares of format version 2.
type LocalFileKEK struct {
	key  []byte
	id   string
	path string
}

func newLocalFileKEK(key []byte) *LocalFileKEK {
	h := mustTaggedHash("agent/kek-id", key)
	return &LocalFileKEK{key: key, id: "local-file:" + hex.EncodeToString(h[:])[:16]}
}

// NewLocalFileKEK makes a KEK from a 32-byte key (for tests and tools; the agent reads it from kek.key).
func NewLocalFileKEK(key []byte) (*LocalFileKEK, error) {
	if len(key) != keyBytes {
		return nil, newError(CodeInvalidParameters, fmt.Sprintf("a key-encryption key must be %d bytes; got %d", keyBytes, len(key)), nil)
	}
	return newLocalFileKEK(append([]byte(nil), key...)), nil
}

// OpenLocalFileKEK loads the legacy <dataDir>/kek.key (see OpenLocalFileKEKAt); prefer
// OpenDataDirKEK, which follows kek.json as the agent does.
func OpenLocalFileKEK(dataDir string) (*LocalFileKEK, error) {
	return OpenLocalFileKEKAt(filepath.Join(dataDir, KEKFile))
}

// OpenLocalFileKEKAt loads a key file, refusing it unless it is a regular file (not a link) owned
// by this user, not accessible to group or others, and exactly 32 bytes — the agent's checks.
func OpenLocalFileKEKAt(path string) (*LocalFileKEK, error) {
	f, err := openPrivate(path, filepath.Base(path))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() != keyBytes {
		return nil, newError(CodeCorruptFile, fmt.Sprintf("%s must hold exactly %d bytes; it holds %d.", filepath.Base(path), keyBytes, st.Size()), nil)
	}
	key := make([]byte, keyBytes)
	if _, err := io.ReadFull(f, key); err != nil {
		return nil, newError(CodeCorruptFile, filepath.Base(path)+" is shorter than it claims.", err)
	}
	k := newLocalFileKEK(key)
	k.path = path
	return k, nil
}

// CreateLocalFileKEK writes a fresh random <dataDir>/kek.key (mode 0600); CONFLICT if one exists.
func CreateLocalFileKEK(dataDir string) (*LocalFileKEK, error) {
	key := make([]byte, keyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	path := filepath.Join(dataDir, KEKFile)
	if err := WriteFileAtomic(path, key, 0o600, true); err != nil {
		return nil, err
	}
	k := newLocalFileKEK(key)
	k.path = path
	return k, nil
}

// ID implements KEK.
func (k *LocalFileKEK) ID() string { return k.id }

func (k *LocalFileKEK) aead() (cipher.AEAD, error) {
	if len(k.key) != keyBytes {
		return nil, newError(CodeFailedPrecondition, "the key-encryption key was closed", nil)
	}
	block, err := aes.NewCipher(k.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Wrap implements KEK: nonce(12) ‖ AES-256-GCM(kek, nonce, aad = wrapLabel ‖ context, dataKey) (48).
func (k *LocalFileKEK) Wrap(dataKey []byte, context [32]byte) ([]byte, error) {
	if len(dataKey) != keyBytes {
		return nil, newError(CodeInvalidParameters, fmt.Sprintf("a data key must be %d bytes; got %d", keyBytes, len(dataKey)), nil)
	}
	g, err := k.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return wrapWith(g, nonce, dataKey, context), nil
}

// wrapWith is Wrap with the nonce given (the worked example in docs/storage.md uses it).
func wrapWith(g cipher.AEAD, nonce, dataKey []byte, context [32]byte) []byte {
	out := make([]byte, nonceBytes, nonceBytes+keyBytes+tagBytes)
	copy(out, nonce)
	return g.Seal(out, nonce, dataKey, append([]byte(wrapLabel), context[:]...))
}

// Unwrap implements KEK.
func (k *LocalFileKEK) Unwrap(wrapped []byte, context [32]byte, kekID string) ([]byte, error) {
	if kekID != k.id {
		shown := kekID
		if len(shown) > 64 {
			shown = shown[:64]
		}
		return nil, newError(CodeCorruptFile, fmt.Sprintf("the file names another key-encryption key (%s), not this agent's (%s): it comes from another agent or is damaged", shown, k.id), nil)
	}
	if len(wrapped) != nonceBytes+keyBytes+tagBytes {
		return nil, newError(CodeCorruptFile, "the wrapped data key has the wrong length: the file is damaged", nil)
	}
	g, err := k.aead()
	if err != nil {
		return nil, err
	}
	key, err := g.Open(nil, wrapped[:nonceBytes], wrapped[nonceBytes:], append([]byte(wrapLabel), context[:]...))
	if err != nil {
		return nil, newError(CodeCorruptFile, "the file's data key does not authenticate: the file is damaged or belongs to another key, node or purpose", err)
	}
	return key, nil
}

// EraseKeyFile is the erase key file of retained share index of set setID (32 lower-case hex digits).
func (k *LocalFileKEK) EraseKeyFile(setID string, index int) (string, error) {
	if k.path == "" {
		return "", newError(CodeFailedPrecondition, "this key-encryption key was made from bytes, not opened from its file, so it has no erase keys", nil)
	}
	if !hex16RE.MatchString(setID) || strings.ToLower(setID) != setID || index < 1 || index > 255 {
		return "", newError(CodeInvalidParameters, "an erase key needs a set id of 32 lower-case hex digits and an index from 1 to 255", nil)
	}
	return filepath.Join(k.path+".erase", fmt.Sprintf("%s-%d.key", setID, index)), nil
}

// eraseKey unseals the erase key of a retained share; with create, makes one when there is none.
func (k *LocalFileKEK) eraseKey(setID string, index int, context [32]byte, create bool) ([]byte, error) {
	path, err := k.EraseKeyFile(setID, index)
	if err != nil {
		return nil, err
	}
	g, err := k.aead()
	if err != nil {
		return nil, err
	}
	aad := append([]byte(eraseFileLabel), context[:]...)
	sealed, err := readPrivateFile(path, path, wrappedBytes)
	if CodeOf(err) == CodeNotFound {
		if !create {
			return nil, newError(CodeCorruptFile, fmt.Sprintf("the erase key of retained share %d of set %s is gone: the share was hard-deleted (crypto-erased), so this copy of its file can no longer be opened", index, setID[:8]), err)
		}
		key := make([]byte, keyBytes)
		nonce := make([]byte, nonceBytes)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out := g.Seal(append([]byte(nil), nonce...), nonce, key, aad)
		if err := ensureDir(filepath.Dir(path)); err != nil {
			return nil, err
		}
		err = WriteFileAtomic(path, out, 0o600, true)
		if err == nil {
			return key, nil
		}
		wipe(key)
		if CodeOf(err) != CodeConflict {
			return nil, err
		}
		sealed, err = readPrivateFile(path, path, wrappedBytes)
	}
	if err != nil {
		return nil, err
	}
	if len(sealed) != wrappedBytes {
		return nil, newError(CodeCorruptFile, fmt.Sprintf("the erase key file %s must hold exactly %d bytes", path, wrappedBytes), nil)
	}
	key, err := g.Open(nil, sealed[:nonceBytes], sealed[nonceBytes:], aad)
	if err != nil {
		return nil, newError(CodeCorruptFile, fmt.Sprintf("the erase key file %s does not authenticate under this KEK: it is damaged, or belongs to another share or another KEK", path), err)
	}
	return key, nil
}

// WrapErasable implements KEK: nonce(12) ‖ AES-256-GCM(erase key, nonce, aad = eraseWrapLabel ‖ context, dataKey).
func (k *LocalFileKEK) WrapErasable(dataKey []byte, context [32]byte, setID string, index int) ([]byte, error) {
	if len(dataKey) != keyBytes {
		return nil, newError(CodeInvalidParameters, fmt.Sprintf("a data key must be %d bytes; got %d", keyBytes, len(dataKey)), nil)
	}
	ek, err := k.eraseKey(setID, index, context, true)
	if err != nil {
		return nil, err
	}
	defer wipe(ek)
	g, err := gcmOf(ek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(append([]byte(nil), nonce...), nonce, dataKey, append([]byte(eraseWrapLabel), context[:]...)), nil
}

// UnwrapErasable implements KEK.
func (k *LocalFileKEK) UnwrapErasable(wrapped []byte, context [32]byte, kekID, setID string, index int) ([]byte, error) {
	if kekID != k.id {
		return k.Unwrap(wrapped, context, kekID) // the same refusal as for any file
	}
	if len(wrapped) != wrappedBytes {
		return nil, newError(CodeCorruptFile, "the wrapped data key has the wrong length: the file is damaged", nil)
	}
	ek, err := k.eraseKey(setID, index, context, false)
	if err != nil {
		return nil, err
	}
	defer wipe(ek)
	g, err := gcmOf(ek)
	if err != nil {
		return nil, err
	}
	key, err := g.Open(nil, wrapped[:nonceBytes], wrapped[nonceBytes:], append([]byte(eraseWrapLabel), context[:]...))
	if err != nil {
		return nil, newError(CodeCorruptFile, "the file's data key does not authenticate under its erase key: the file is damaged or belongs to another share", err)
	}
	return key, nil
}

// Close wipes the key from memory; the KEK cannot be used afterwards.
func (k *LocalFileKEK) Close() {
	wipe(k.key)
	k.key = nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
