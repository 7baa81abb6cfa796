package custosstore

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeKEKState(t *testing.T, dir string, st KEKState, mode os.FileMode) {
	t.Helper()
	b, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, KEKConfigFile), b, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, KEKConfigFile), mode)
}

func TestKEKJSONNamesAKeyFileOutsideTheDataDirectory(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	os.Mkdir(data, 0o700)
	keyPath := data + ".kek.key"
	if err := WriteFileAtomic(keyPath, seqKey(), 0o600, true); err != nil {
		t.Fatal(err)
	}
	kek, _ := NewLocalFileKEK(seqKey())
	writeKEKState(t, data, KEKState{Version: 1, Current: KEKConfig{Provider: "file", Path: keyPath, ID: kek.ID()}, Retired: []KEKConfig{}}, 0o600)

	s, key, err := NewStore(data)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	if key.ID() != kek.ID() {
		t.Fatal("the key file kek.json names is used")
	}
	if _, err := s.Write(KeydataRef("k", "n"), []byte("x"), true); err != nil {
		t.Fatal(err)
	}

	// A different key file under the same path: refused before any file is read.
	other := make([]byte, 32)
	other[0] = 1
	os.WriteFile(keyPath, other, 0o600)
	_, _, err = NewStore(data)
	wantCode(t, err, CodeKEKUnavailable)
	os.WriteFile(keyPath, seqKey(), 0o600)

	// A file sealed under a retired key is KEK_RETIRED, not merely corrupt.
	old, _ := NewLocalFileKEK(other)
	sealed, _ := Seal(old, KeydataRef("k", "n"), []byte("old"))
	writeKEKState(t, data, KEKState{Version: 1, Current: KEKConfig{Provider: "file", Path: keyPath, ID: kek.ID()}, Retired: []KEKConfig{{ID: old.ID(), Provider: "file", RetiredAt: 1767000000000}}}, 0o600)
	s, key, err = NewStore(data)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Close()
	_, err = Open(s.KEK, KeydataRef("k", "n"), sealed)
	wantCode(t, err, CodeKEKRetired)

	// kek.json readable by others is refused, like the key files.
	writeKEKState(t, data, KEKState{Version: 1, Current: KEKConfig{Provider: "file", Path: keyPath, ID: kek.ID()}, Retired: []KEKConfig{}}, 0o644)
	_, _, err = NewStore(data)
	wantCode(t, err, CodePermissionDenied)
	os.Chmod(filepath.Join(data, KEKConfigFile), 0o600)

	os.WriteFile(filepath.Join(data, KEKConfigFile), []byte(`{"version":2}`), 0o600)
	_, _, err = NewStore(data)
	wantCode(t, err, CodeCorruptFile)

	os.WriteFile(filepath.Join(data, RotationJournal), []byte(`{}`), 0o600)
	_, _, err = NewStore(data)
	wantCode(t, err, CodeFailedPrecondition)
	if !strings.Contains(err.Error(), "agent kek rotate --resume") {
		t.Fatalf("message: %v", err)
	}
}

func TestAPKCS11KEKPointsToTheAgentsExport(t *testing.T) {
	data := t.TempDir()
	writeKEKState(t, data, KEKState{Version: 1, Current: KEKConfig{Provider: "pkcs11", Module: "/usr/lib/softhsm/libsofthsm2.so", TokenLabel: "custos", KeyLabel: "custos-kek-1", ID: "pkcs11:0123456789abcdef"}, Retired: []KEKConfig{}}, 0o600)
	_, _, err := NewStore(data)
	wantCode(t, err, CodeFailedPrecondition)
	if !strings.Contains(err.Error(), "agent keyshare export") {
		t.Fatalf("message: %v", err)
	}
}

func seqKey() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}
