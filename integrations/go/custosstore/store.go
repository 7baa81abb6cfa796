package custosstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Store reads and writes the sealed files under an agent's data directory (docs/storage.md §1).
type Store struct {
	Root string
	KEK  KEK
}

// NewStore opens the store of dataDir with the local-file KEK its kek.json names (or the legacy
// <dataDir>/kek.key); see OpenDataDirKEK. Close the returned key when done.
func NewStore(dataDir string) (*Store, *LocalFileKEK, error) {
	root, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, nil, err
	}
	kek, key, err := OpenDataDirKEK(root)
	if err != nil {
		return nil, nil, err
	}
	return &Store{Root: root, KEK: kek}, key, nil
}

// PathOf is the file of ref, always inside Root.
func (s *Store) PathOf(ref Ref) (string, error) {
	r, err := ref.Check()
	if err != nil {
		return "", err
	}
	var rel []string
	switch r.Kind {
	case KindShare:
		rel = []string{"keys", r.KeyID, r.NodeID + ".enc"}
	case KindKeydata:
		rel = []string{"keys", r.KeyID, r.NodeID + ".keydata.enc"}
	case KindRetainedShare:
		rel = []string{"backup", r.KeyID, r.NodeID, r.SetID, strconv.Itoa(r.Index) + ".enc"}
	case KindAgentIdentity:
		rel = []string{"agent", "identity.enc"}
	default:
		return "", newError(CodeInvalidParameters, "session keys are stored in the agent's database, not as files", nil)
	}
	root := filepath.Clean(s.Root)
	path := filepath.Join(append([]string{root}, rel...)...)
	if !strings.HasPrefix(path, root+string(filepath.Separator)) {
		return "", newError(CodeInvalidParameters, "a secret file path left the data directory", nil)
	}
	return path, nil
}

// ReadRaw returns the sealed bytes of ref's file without decrypting: NOT_FOUND when it is missing,
// CORRUPT_FILE when it is a symbolic link, not a regular file, or larger than MaxSealedBytes.
func (s *Store) ReadRaw(ref Ref) ([]byte, error) {
	r, err := ref.Check()
	if err != nil {
		return nil, err
	}
	path, err := s.PathOf(r)
	if err != nil {
		return nil, err
	}
	what := r.String()
	What := strings.ToUpper(what[:1]) + what[1:]
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, newError(CodeNotFound, What+" is not stored here.", err)
		}
		if errors.Is(err, syscall.ELOOP) {
			return nil, newError(CodeCorruptFile, What+" is a symbolic link; refusing to follow it.", err)
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, newError(CodeCorruptFile, What+" is not a regular file.", nil)
	}
	if st.Size() > MaxSealedBytes {
		return nil, newError(CodeCorruptFile, What+" is too large to be an agent secret file.", nil)
	}
	return io.ReadAll(io.LimitReader(f, MaxSealedBytes+1))
}

// Read reads and opens ref's file (see Open for what is refused).
func (s *Store) Read(ref Ref) ([]byte, error) {
	sealed, err := s.ReadRaw(ref)
	if err != nil {
		return nil, err
	}
	return Open(s.KEK, ref, sealed)
}

// Write seals plaintext for ref and writes it atomically with mode 0600 (directories 0700);
// with noOverwrite an existing file is CONFLICT and is left as it was. Returns the path.
func (s *Store) Write(ref Ref, plaintext []byte, noOverwrite bool) (string, error) {
	path, err := s.PathOf(ref)
	if err != nil {
		return "", err
	}
	sealed, err := Seal(s.KEK, ref, plaintext)
	if err != nil {
		return "", err
	}
	if err := ensureDir(filepath.Dir(path)); err != nil {
		return "", err
	}
	return path, WriteFileAtomic(path, sealed, 0o600, noOverwrite)
}

// WriteFileAtomic writes data to path as the agent does (agent/fs-atomic.ts): a temp file in the
// same directory created with O_EXCL and exactly mode, written, fsynced, closed, renamed over path,
// then the directory fsynced. A reader sees the old or the new content, never a mixture.
func WriteFileAtomic(path string, data []byte, mode os.FileMode, noOverwrite bool) (err error) {
	conflict := func(how string) error {
		return newError(CodeConflict, fmt.Sprintf("refusing to overwrite %s: it %s", filepath.Base(path), how), nil)
	}
	if noOverwrite {
		if _, err := os.Lstat(path); err == nil {
			return conflict("exists already")
		}
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	temp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if f != nil {
			f.Close()
		}
		if !renamed {
			os.Remove(temp)
		}
	}()
	if err := f.Chmod(mode); err != nil { // the umask may have cleared bits asked for
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		f = nil
		return err
	}
	f = nil
	if noOverwrite {
		if _, err := os.Lstat(path); err == nil {
			return conflict("appeared while it was being written")
		}
	}
	if err := os.Rename(temp, path); err != nil {
		return err
	}
	renamed = true
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func ensureDir(dir string) error {
	st, err := os.Stat(dir)
	if err == nil {
		if !st.IsDir() {
			return newError(CodeConflict, filepath.Base(dir)+" exists and is not a directory", nil)
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}
