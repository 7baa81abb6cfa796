package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"custos/integrations/go/custosstore"
)

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "test", "fixtures", "tss-lib", "ecdsa", "keygen_data_1.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadsASealedKeydataIntoTheCompactForm(t *testing.T) {
	data := t.TempDir()
	if _, err := custosstore.CreateLocalFileKEK(data); err != nil {
		t.Fatal(err)
	}
	store, kek, err := custosstore.NewStore(data)
	if err != nil {
		t.Fatal(err)
	}
	defer kek.Close()
	raw := fixture(t)
	if _, err := store.Write(custosstore.KeydataRef("key-1", "node-1"), raw, true); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "k.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--data", data, "--key-id", "key-1", "--node-id", "node-1", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "secp256k1, party 1 of 5 (not compact; rewritten in tss-lib's json.Marshal form)") {
		t.Fatalf("stdout %s", stdout.String())
	}
	got, _ := os.ReadFile(out)
	var want bytes.Buffer
	json.Compact(&want, raw)
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("the output is the compact form of the keydata")
	}
	st, _ := os.Stat(out)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", st.Mode().Perm())
	}
}

func TestUsageAndRefusals(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{}, &stdout, &stderr); code != 2 {
		t.Fatalf("no source: exit %d", code)
	}
	if code := run([]string{"--data", "x", "--plain", "y"}, &stdout, &stderr); code != 2 {
		t.Fatalf("two sources: exit %d", code)
	}
	dir := t.TempDir()
	open := filepath.Join(dir, "open.json")
	os.WriteFile(open, fixture(t), 0o644)
	stderr.Reset()
	if code := run([]string{"--plain", open}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "PERMISSION_DENIED") {
		t.Fatalf("a readable export: exit %d %s", code, stderr.String())
	}
	link := filepath.Join(dir, "link.json")
	os.Chmod(open, 0o600)
	os.Symlink(open, link)
	stderr.Reset()
	if code := run([]string{"--plain", link}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "symbolic link") {
		t.Fatalf("a link: exit %d %s", code, stderr.String())
	}
}
