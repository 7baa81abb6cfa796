package custosstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Files of the agent's data directory that say which KEK it uses (agent/kek/config.ts).
const (
	KEKConfigFile      = "kek.json"
	RotationJournal    = "kek-rotation.json"
	CodeKEKUnavailable = "KEK_UNAVAILABLE"
	CodeKEKRetired     = "KEK_RETIRED"
)

// KEKConfig is the "current" (or a "retired") entry of kek.json. Nothing in it is secret.
type KEKConfig struct {
	Provider   string `json:"provider"` // "file" or "pkcs11"
	ID         string `json:"id"`
	Path       string `json:"path,omitempty"`       // file
	Module     string `json:"module,omitempty"`     // pkcs11
	TokenLabel string `json:"tokenLabel,omitempty"` // pkcs11
	KeyLabel   string `json:"keyLabel,omitempty"`   // pkcs11
	PinFile    string `json:"pinFile,omitempty"`    // pkcs11
	RetiredAt  int64  `json:"retiredAt,omitempty"`  // retired entries: milliseconds since the epoch
}

// KEKState is kek.json.
type KEKState struct {
	Version int         `json:"version"`
	Current KEKConfig   `json:"current"`
	Retired []KEKConfig `json:"retired"`
}

// ReadKEKState reads <dataDir>/kek.json; (nil, nil) for a directory made before it existed, whose
// key is <dataDir>/kek.key. The file must be owner-only, like the key files.
func ReadKEKState(dataDir string) (*KEKState, error) {
	path := filepath.Join(dataDir, KEKConfigFile)
	raw, err := readPrivateFile(path, KEKConfigFile, 1<<20)
	if err != nil {
		if CodeOf(err) == CodeNotFound {
			return nil, nil
		}
		return nil, err
	}
	var st KEKState
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&st); err != nil {
		return nil, newError(CodeCorruptFile, KEKConfigFile+" is not valid: it is damaged. Restore it from backup (it holds no secret).", err)
	}
	if st.Version != 1 || (st.Current.Provider != "file" && st.Current.Provider != "pkcs11") || !kekIDRE.MatchString(st.Current.ID) {
		return nil, newError(CodeCorruptFile, KEKConfigFile+" does not describe a key-encryption key this build knows. Restore it from backup.", nil)
	}
	if st.Current.Provider == "file" && !filepath.IsAbs(st.Current.Path) {
		return nil, newError(CodeCorruptFile, KEKConfigFile+" names a key file by a relative path. Restore it from backup.", nil)
	}
	return &st, nil
}

// OpenDataDirKEK opens the KEK an agent's data directory uses, as the agent does: the one kek.json
// names (checking its id, so a swapped key file is refused before any file is read, and refusing
// files sealed under a retired id), or the legacy <dataDir>/kek.key. A PKCS#11 KEK cannot be opened
// here: the node gets its keydata through the agent (`agent keyshare export`, docs/storage.md §6).
func OpenDataDirKEK(dataDir string) (KEK, *LocalFileKEK, error) {
	if _, err := os.Lstat(filepath.Join(dataDir, RotationJournal)); err == nil {
		return nil, nil, newError(CodeFailedPrecondition, "a key-encryption key rotation of "+dataDir+" was interrupted; finish it first with: agent kek rotate --resume", nil)
	}
	st, err := ReadKEKState(dataDir)
	if err != nil {
		return nil, nil, err
	}
	if st == nil {
		k, err := OpenLocalFileKEK(dataDir)
		return k, k, err
	}
	if st.Current.Provider != "file" {
		return nil, nil, newError(CodeFailedPrecondition, fmt.Sprintf("this agent's key-encryption key is in a PKCS#11 token (%s, key %q on token %q), which custosstore does not open: get the node's keydata with `agent keyshare export --key-id K --node-id N --out FILE` on the node's own storage (docs/storage.md §6)", st.Current.ID, st.Current.KeyLabel, st.Current.TokenLabel), nil)
	}
	k, err := OpenLocalFileKEKAt(st.Current.Path)
	if err != nil {
		return nil, nil, err
	}
	if k.ID() != st.Current.ID {
		k.Close()
		return nil, nil, newError(CodeKEKUnavailable, fmt.Sprintf("the key file %s is not the key-encryption key this agent was set up with (it is %s, %s names %s): it was replaced. Put the original back.", st.Current.Path, k.ID(), KEKConfigFile, st.Current.ID), nil)
	}
	retired := map[string]int64{}
	for _, r := range st.Retired {
		retired[r.ID] = r.RetiredAt
	}
	return &retiredGuard{KEK: k, retired: retired}, k, nil
}

// retiredGuard refuses files sealed under a key a rotation retired (a copy from before it).
type retiredGuard struct {
	KEK
	retired map[string]int64
}

func (g *retiredGuard) Unwrap(wrapped []byte, context [32]byte, kekID string) ([]byte, error) {
	if at, ok := g.retired[kekID]; ok {
		when := time.UnixMilli(at).UTC().Format(time.RFC3339)
		return nil, newError(CodeKEKRetired, fmt.Sprintf("this file is sealed under the key-encryption key %s, retired by a rotation on %s: it is a copy from before the rotation; use the current file, or run a recovery", kekID, when), nil)
	}
	return g.KEK.Unwrap(wrapped, context, kekID)
}

func (g *retiredGuard) UnwrapErasable(wrapped []byte, context [32]byte, kekID, setID string, index int) ([]byte, error) {
	if _, ok := g.retired[kekID]; ok {
		return g.Unwrap(wrapped, context, kekID)
	}
	return g.KEK.UnwrapErasable(wrapped, context, kekID, setID, index)
}

// readPrivateFile reads a small file that must be a regular file (not a link) owned by this user
// and not accessible to group or others; the checks are made on the open descriptor.
func readPrivateFile(path, name string, max int64) ([]byte, error) {
	f, err := openPrivate(path, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, newError(CodeCorruptFile, name+" is too large", nil)
	}
	buf := make([]byte, st.Size())
	n, err := f.ReadAt(buf, 0)
	if err != nil && n != len(buf) {
		return nil, err
	}
	return buf, nil
}

func openPrivate(path, name string) (*os.File, error) {
	link, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, newError(CodeNotFound, name+" is missing: this is not an initialised agent data directory, or the file was removed.", err)
		}
		return nil, err
	}
	if !link.Mode().IsRegular() {
		return nil, newError(CodePermissionDenied, name+" must be a regular file, not a link or anything else.", nil)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, newError(CodePermissionDenied, name+" must be a regular file.", nil)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		f.Close()
		return nil, newError(CodePermissionDenied, fmt.Sprintf("%s is accessible to group or others (mode %o); refusing to use it. Run: chmod 600 %s", name, perm, path), nil)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		f.Close()
		return nil, newError(CodePermissionDenied, fmt.Sprintf("%s belongs to another user (uid %d); refusing to use it.", name, sys.Uid), nil)
	}
	return f, nil
}
