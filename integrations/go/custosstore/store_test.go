package custosstore

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type workedExample struct {
	KEKKey    string `json:"kek_key"`
	KEKID     string `json:"kek_id"`
	KeyID     string `json:"key_id"`
	NodeID    string `json:"node_id"`
	Context   string `json:"context"`
	DataKey   string `json:"data_key"`
	WrapNonce string `json:"wrap_nonce"`
	Wrapped   string `json:"wrapped"`
	Nonce     string `json:"nonce"`
	Plaintext string `json:"plaintext"`
	Sealed    string `json:"sealed"`
	Version   byte   `json:"version"` // absent (0) in the version-1 example
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadExample(t *testing.T, name string) workedExample {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ex workedExample
	if err := json.Unmarshal(raw, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Version == 0 {
		ex.Version = 1
	}
	return ex
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %s, got success", code)
	}
	if got := CodeOf(err); got != code {
		t.Fatalf("expected %s, got %q (%v)", code, got, err)
	}
}

func TestWorkedExamplesAreRebuiltFromTheirParts(t *testing.T) {
	for _, name := range []string{"worked-example.json", "worked-example-v2.json"} {
		t.Run(name, func(t *testing.T) { checkWorkedExample(t, loadExample(t, name)) })
	}
}

func checkWorkedExample(t *testing.T, ex workedExample) {
	kek, err := NewLocalFileKEK(unhex(t, ex.KEKKey))
	if err != nil {
		t.Fatal(err)
	}
	if kek.ID() != ex.KEKID {
		t.Fatalf("kek id %s, want %s", kek.ID(), ex.KEKID)
	}
	ref, err := KeydataRef(ex.KeyID, ex.NodeID).Check()
	if err != nil {
		t.Fatal(err)
	}
	ctx := ref.Context()
	if hex.EncodeToString(ctx[:]) != ex.Context {
		t.Fatalf("context %x, want %s", ctx, ex.Context)
	}
	g, _ := kek.aead()
	wrapped := wrapWith(g, unhex(t, ex.WrapNonce), unhex(t, ex.DataKey), ctx)
	if hex.EncodeToString(wrapped) != ex.Wrapped {
		t.Fatalf("wrapped %x, want %s", wrapped, ex.Wrapped)
	}
	sealed, err := sealWith(ref, ex.Version, kek.ID(), wrapped, unhex(t, ex.DataKey), unhex(t, ex.Nonce), []byte(ex.Plaintext))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(sealed) != ex.Sealed {
		t.Fatalf("sealed %x, want %s", sealed, ex.Sealed)
	}
	plain, err := Open(kek, ref, sealed)
	if err != nil || string(plain) != ex.Plaintext {
		t.Fatalf("open: %q %v", plain, err)
	}
	h, err := ParseHeader(ref, sealed)
	if err != nil || h.Version != ex.Version || h.KEKID != ex.KEKID || h.Length != 4+3+len(ex.KEKID)+1+60+12 {
		t.Fatalf("header %+v %v", h, err)
	}
	other, _ := KeydataRef(ex.KeyID, "node-2").Check()
	if _, err := Open(kek, other, sealed); CodeOf(err) != CodeCorruptFile {
		t.Fatalf("opened as node-2's keydata: %v", err)
	}
}

func TestVersion2IsWrittenAndARotationReplacesOnlyTheWrappedKey(t *testing.T) {
	s := newTestStore(t)
	ref := KeydataRef("key-1", "node-1")
	sealed, err := Seal(s.KEK, ref, []byte("payload"))
	if err != nil || sealed[4] != 2 {
		t.Fatalf("version %d %v", sealed[4], err)
	}
	// What `agent kek rotate` does to a version-2 file: new KEK id and wrapped key, same nonce and
	// ciphertext. The result opens under the new KEK; the payload's tag did not cover the old ones.
	h, _ := ParseHeader(ref, sealed)
	next := newTestStore(t)
	dataKey, err := s.KEK.Unwrap(h.Wrapped, ref.Context(), h.KEKID)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, _ := next.KEK.Wrap(dataKey, ref.Context())
	header := append(append([]byte("CSTS"), 2, byte(KindKeydata), byte(len(next.KEK.ID()))), next.KEK.ID()...)
	header = append(append(append(header, byte(len(wrapped))), wrapped...), h.Nonce...)
	moved := append(header, sealed[h.Length:]...)
	if plain, err := Open(next.KEK, ref, moved); err != nil || string(plain) != "payload" {
		t.Fatalf("rewrapped: %q %v", plain, err)
	}
	// A version-1 file with the same parts does not open as version 2, nor the other way round.
	v1 := append([]byte(nil), sealed...)
	v1[4] = 1
	_, err = Open(s.KEK, ref, v1)
	wantCode(t, err, CodeCorruptFile)
}

func TestARetainedShareIsCryptoErasedWithItsEraseKey(t *testing.T) {
	s := newTestStore(t)
	key := s.KEK.(*LocalFileKEK) // a legacy directory (no kek.json): the key itself
	a := RetainedShareRef("key-1", "node-1", setA, 1)
	b := RetainedShareRef("key-1", "node-1", setA, 2)
	for _, ref := range []Ref{a, b} {
		if _, err := s.Write(ref, []byte("share "+ref.String()), true); err != nil {
			t.Fatal(err)
		}
	}
	fileA, _ := key.EraseKeyFile(setA, 1)
	fileB, _ := key.EraseKeyFile(setA, 2)
	if st, err := os.Stat(fileA); err != nil || st.Mode().Perm() != 0o600 || filepath.Dir(fileA) != key.path+".erase" {
		t.Fatalf("erase key file %s: %v", fileA, err)
	}
	// An erase key under another share's name does not authenticate there.
	saved, _ := os.ReadFile(fileA)
	eraseB, _ := os.ReadFile(fileB)
	os.WriteFile(fileA, eraseB, 0o600)
	_, err := s.Read(a)
	wantCode(t, err, CodeCorruptFile)
	os.WriteFile(fileA, saved, 0o600)
	if _, err := s.Read(a); err != nil {
		t.Fatal(err)
	}
	// The agent's purge destroys the erase key: the file (or any copy of it) no longer opens.
	os.Remove(fileA)
	_, err = s.Read(a)
	wantCode(t, err, CodeCorruptFile)
	if !strings.Contains(err.Error(), "crypto-erased") {
		t.Fatalf("message: %v", err)
	}
	if _, err := s.Read(b); err != nil {
		t.Fatal(err)
	}
	// A version-1 retained share (written before erase keys) is still read, with the KEK alone.
	plain := []byte("old share")
	dataKey := make([]byte, 32)
	wrapped, _ := key.Wrap(dataKey, a.Context())
	ra, _ := a.Check()
	old, _ := sealWith(ra, 1, key.ID(), wrapped, dataKey, make([]byte, 12), plain)
	if got, err := Open(s.KEK, a, old); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("version 1: %q %v", got, err)
	}
	// A KEK made from bytes has no erase keys: it refuses a version-2 retained share, saying why.
	bare, _ := NewLocalFileKEK(make([]byte, 32))
	_, err = Seal(bare, a, plain)
	wantCode(t, err, CodeFailedPrecondition)
}

func TestTaggedHashEncodesPartsWithLengths(t *testing.T) {
	a, _ := TaggedHash("agent/secret-file", "ab", "c")
	b, _ := TaggedHash("agent/secret-file", "a", "bc")
	if a == b {
		t.Fatal("different splits of the same bytes must hash differently")
	}
	n, _ := TaggedHash("x", 1)
	s, _ := TaggedHash("x", []byte{0, 0, 0, 0, 0, 0, 0, 1})
	if n != s {
		t.Fatal("a number is hashed as 8 big-endian bytes")
	}
	if _, err := TaggedHash("Bad Purpose"); CodeOf(err) != CodeInvalidParameters {
		t.Fatal("a bad purpose is refused")
	}
	if _, err := TaggedHash("x", -1); CodeOf(err) != CodeInvalidParameters {
		t.Fatal("a negative number is refused")
	}
}

func newTestStore(t *testing.T) *Store {
	t.Helper()
	dir := t.TempDir()
	if _, err := CreateLocalFileKEK(dir); err != nil {
		t.Fatal(err)
	}
	s, _, err := NewStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const setA = "00112233445566778899aabbccddeeff"

func TestEveryKindRoundTripsWithPrivateModes(t *testing.T) {
	s := newTestStore(t)
	refs := []Ref{ShareRef("key-1", "node-1"), KeydataRef("key-1", "node-1"), RetainedShareRef("key-1", "node-1", setA, 2), AgentIdentityRef()}
	want := map[Kind]string{
		KindShare:         "keys/key-1/node-1.enc",
		KindKeydata:       "keys/key-1/node-1.keydata.enc",
		KindRetainedShare: "backup/key-1/node-1/" + setA + "/2.enc",
		KindAgentIdentity: "agent/identity.enc",
	}
	for _, ref := range refs {
		plain := []byte("secret of " + ref.Kind.Name())
		path, err := s.Write(ref, plain, true)
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(s.Root, want[ref.Kind]) {
			t.Fatalf("%s at %s", ref.Kind.Name(), path)
		}
		st, _ := os.Stat(path)
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %o", st.Mode().Perm())
		}
		dst, _ := os.Stat(filepath.Dir(path))
		if dst.Mode().Perm() != 0o700 {
			t.Fatalf("dir mode %o", dst.Mode().Perm())
		}
		got, err := s.Read(ref)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("read %s: %q %v", ref.Kind.Name(), got, err)
		}
	}
	upper, err := s.Read(RetainedShareRef("key-1", "node-1", strings.ToUpper(setA), 2))
	if err != nil || string(upper) != "secret of retained-share" {
		t.Fatal("a set id in upper case names the same file")
	}
}

func TestAFileElsewhereOrChangedIsRefused(t *testing.T) {
	s := newTestStore(t)
	ref := KeydataRef("key-1", "node-1")
	if _, err := s.Write(ref, []byte(`{"Xi":1}`), true); err != nil {
		t.Fatal(err)
	}
	sealed, _ := s.ReadRaw(ref)
	elsewhere := []Ref{
		KeydataRef("key-1", "node-2"),
		KeydataRef("key-2", "node-1"),
		ShareRef("key-1", "node-1"),
		RetainedShareRef("key-1", "node-1", setA, 1),
	}
	for _, other := range elsewhere {
		_, err := Open(s.KEK, other, sealed)
		wantCode(t, err, CodeCorruptFile)
	}
	// The same header moved between share records of two nodes: the kind matches, the context does not.
	share := ShareRef("key-1", "node-1")
	shareSealed, _ := Seal(s.KEK, share, []byte{1, 2, 3})
	_, err := Open(s.KEK, ShareRef("key-1", "node-2"), shareSealed)
	wantCode(t, err, CodeCorruptFile)
	retained, _ := Seal(s.KEK, RetainedShareRef("key-1", "node-1", setA, 1), []byte{9})
	_, err = Open(s.KEK, RetainedShareRef("key-1", "node-1", setA, 2), retained)
	wantCode(t, err, CodeCorruptFile)
	_, err = Open(s.KEK, RetainedShareRef("key-1", "node-1", "ffeeddccbbaa99887766554433221100", 1), retained)
	wantCode(t, err, CodeCorruptFile)

	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			bad := append([]byte(nil), sealed...)
			bad[i] ^= bit
			plain, err := Open(s.KEK, ref, bad)
			if plain != nil {
				t.Fatalf("byte %d changed: plaintext returned", i)
			}
			wantCode(t, err, CodeCorruptFile)
		}
	}
	for n := 0; n < len(sealed); n++ {
		_, err := Open(s.KEK, ref, sealed[:n])
		wantCode(t, err, CodeCorruptFile)
	}
	_, err = Open(s.KEK, ref, append(append([]byte(nil), sealed...), 0))
	wantCode(t, err, CodeCorruptFile)

	other := newTestStore(t)
	_, err = Open(other.KEK, ref, sealed)
	wantCode(t, err, CodeCorruptFile)
	if !strings.Contains(err.Error(), "another key-encryption key") {
		t.Fatalf("message: %v", err)
	}
}

func TestReadRefusesLinksAndMissingFiles(t *testing.T) {
	s := newTestStore(t)
	_, err := s.Read(KeydataRef("key-1", "node-1"))
	wantCode(t, err, CodeNotFound)
	path, _ := s.Write(KeydataRef("key-1", "node-1"), []byte("x"), true)
	link, _ := s.PathOf(KeydataRef("key-1", "node-2"))
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	_, err = s.Read(KeydataRef("key-1", "node-2"))
	wantCode(t, err, CodeCorruptFile)
}

func TestNoOverwriteKeepsTheFile(t *testing.T) {
	s := newTestStore(t)
	ref := ShareRef("key-1", "node-1")
	path, _ := s.Write(ref, []byte("first"), true)
	before, _ := os.ReadFile(path)
	_, err := s.Write(ref, []byte("second"), true)
	wantCode(t, err, CodeConflict)
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("a refused write changed the file")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
	if _, err := s.Write(ref, []byte("second"), false); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Read(ref)
	if string(got) != "second" {
		t.Fatal("replace")
	}
}

func TestIdentifiersAreCheckedBeforeAnyPath(t *testing.T) {
	s := newTestStore(t)
	for _, ref := range []Ref{
		KeydataRef("../x", "node-1"),
		KeydataRef("key-1", "a/b"),
		KeydataRef("", "node-1"),
		KeydataRef(".hidden", "node-1"),
		KeydataRef("key-1", strings.Repeat("n", 129)),
		ShareRef("key-1", "node-1.keydata"),
		RetainedShareRef("key-1", "node-1", "abc", 1),
		RetainedShareRef("key-1", "node-1", setA, 0),
		RetainedShareRef("key-1", "node-1", setA, 256),
		{Kind: 9},
	} {
		_, err := s.PathOf(ref)
		wantCode(t, err, CodeInvalidParameters)
		_, err = s.Write(ref, []byte("x"), true)
		wantCode(t, err, CodeInvalidParameters)
	}
	_, err := s.PathOf(SessionIdentityRef(setA))
	wantCode(t, err, CodeInvalidParameters)
	sealed, err := Seal(s.KEK, SessionIdentityRef(setA), []byte("age"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Open(s.KEK, SessionIdentityRef(setA), sealed); err != nil || string(got) != "age" {
		t.Fatal("session identity blobs seal and open")
	}
}

func TestTheKEKFileIsChecked(t *testing.T) {
	dir := t.TempDir()
	_, err := OpenLocalFileKEK(dir)
	wantCode(t, err, CodeNotFound)
	if _, err := CreateLocalFileKEK(dir); err != nil {
		t.Fatal(err)
	}
	_, err = CreateLocalFileKEK(dir)
	wantCode(t, err, CodeConflict)
	path := filepath.Join(dir, KEKFile)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err = OpenLocalFileKEK(dir)
	wantCode(t, err, CodePermissionDenied)
	if !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("message: %v", err)
	}
	os.Chmod(path, 0o600)
	other := t.TempDir()
	if err := os.Symlink(path, filepath.Join(other, KEKFile)); err != nil {
		t.Fatal(err)
	}
	_, err = OpenLocalFileKEK(other)
	wantCode(t, err, CodePermissionDenied)
	short := t.TempDir()
	os.WriteFile(filepath.Join(short, KEKFile), make([]byte, 31), 0o600)
	_, err = OpenLocalFileKEK(short)
	wantCode(t, err, CodeCorruptFile)
	kek, err := OpenLocalFileKEK(dir)
	if err != nil {
		t.Fatal(err)
	}
	kek.Close()
	_, err = Seal(kek, ShareRef("k", "n"), []byte("x"))
	wantCode(t, err, CodeFailedPrecondition)
}
