// Command custos-keydata is the node's side of a recovery (seeds SOP §5 steps 4–5): it loads the
// keydata the agent regenerated into tss-lib's LocalPartySaveData form, checks it, and writes the
// compact JSON a tss-lib node unmarshals (json.Unmarshal into keygen.LocalPartySaveData).
//
//	custos-keydata --data DIR --key-id K --node-id N --out FILE   opens DIR/keys/K/N.keydata.enc (local-file KEK)
//	custos-keydata --plain FILE --out FILE                         a file from `agent keyshare export` (any KEK, e.g. an HSM)
//
// Without --out it only checks and prints the summary. --out is written with mode 0600 and never
// over an existing file; it is secret: load it into the node, then delete it.
// Exit status: 0 loaded, 1 refused (the coded reason on stderr), 2 usage.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"

	"custos/integrations/go/custosstore"
	"custos/integrations/go/tsskeydata"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("custos-keydata", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the agent's data directory (holds kek.key and keys/)")
	keyID := fs.String("key-id", "", "key id")
	nodeID := fs.String("node-id", "", "node id")
	plainPath := fs.String("plain", "", "a plaintext keydata exported by `agent keyshare export`")
	out := fs.String("out", "", "where to write the compact LocalPartySaveData JSON (mode 0600)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*data == "") == (*plainPath == "") {
		fmt.Fprintln(stderr, "custos-keydata: give either --data DIR --key-id K --node-id N (a sealed .keydata.enc) or --plain FILE (an exported keydata)")
		return 2
	}
	var raw []byte
	var source string
	if *data != "" {
		store, kek, err := custosstore.NewStore(*data)
		if err != nil {
			return fail(stderr, err)
		}
		defer kek.Close()
		ref := custosstore.KeydataRef(*keyID, *nodeID)
		if raw, err = store.Read(ref); err != nil {
			return fail(stderr, err)
		}
		path, _ := store.PathOf(ref)
		source = path
	} else {
		var err error
		if raw, err = readPrivate(*plainPath); err != nil {
			return fail(stderr, err)
		}
		source = *plainPath
	}
	defer wipe(raw)
	k, err := tsskeydata.Decode(raw)
	if err != nil {
		return fail(stderr, err)
	}
	compact, err := k.Marshal()
	if err != nil {
		return fail(stderr, err)
	}
	defer wipe(compact)
	sum := sha256.Sum256(compact)
	form := "tss-lib's compact json.Marshal form"
	if !k.IsCompact {
		form = "not compact; rewritten in tss-lib's json.Marshal form"
	}
	fmt.Fprintf(stdout, "Loaded %s into LocalPartySaveData: %s, party %d of %d (%s).\n", source, k.Curve, k.PartyIndex, k.Parties, form)
	fmt.Fprintf(stdout, "sha256 %s\n", hex.EncodeToString(sum[:]))
	if *out == "" {
		return 0
	}
	if err := writeNew(*out, compact); err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "Wrote %s (0600). It is secret: load it into the node, then delete it.\n", *out)
	return 0
}

// readPrivate reads an exported keydata, refusing a link, a non-regular file, a file others can
// read (the agent writes exports 0600), or one above 4 MiB. The checks are made on the open file.
func readPrivate(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, &custosstore.Error{Code: custosstore.CodePermissionDenied, Message: path + " is a symbolic link; give the exported file itself"}
		}
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &custosstore.Error{Code: custosstore.CodePermissionDenied, Message: path + " must be a regular file"}
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, &custosstore.Error{Code: custosstore.CodePermissionDenied, Message: fmt.Sprintf("%s is accessible to group or others (mode %o); a keydata is secret. Run: chmod 600 %s", path, st.Mode().Perm(), path)}
	}
	if st.Size() > custosstore.MaxSealedBytes {
		return nil, &custosstore.Error{Code: custosstore.CodeInvalidParameters, Message: path + " is too large to be a keydata"}
	}
	return io.ReadAll(io.LimitReader(f, custosstore.MaxSealedBytes+1))
}

func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return &custosstore.Error{Code: custosstore.CodeConflict, Message: path + " exists already; choose a new file name"}
		}
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "custos-keydata: %v\n", err)
	return 1
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
