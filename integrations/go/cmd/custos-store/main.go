// Command custos-store opens and seals the agent's secret files with its local-file KEK, as a node
// (or an operator) does without the agent running. Plaintext goes to and comes from files only,
// written with mode 0600 and never over an existing file.
//
//	custos-store open --data DIR --kind keydata|share|retained-share --key-id K --node-id N [--set-id S --index I] --out FILE
//	custos-store seal --data DIR --kind ... --key-id K --node-id N [--set-id S --index I] --in FILE [--replace]
//
// Exit status: 0 done, 1 refused (the coded reason on stderr), 2 usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"custos/integrations/go/custosstore"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "open" && args[0] != "seal") {
		fmt.Fprintln(stderr, "usage: custos-store open|seal --data DIR --kind keydata|share|retained-share --key-id K --node-id N [--set-id S --index I] (--out FILE | --in FILE [--replace])")
		return 2
	}
	fs := flag.NewFlagSet("custos-store "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "the agent's data directory (holds kek.key)")
	kind := fs.String("kind", "keydata", "keydata, share or retained-share")
	keyID := fs.String("key-id", "", "key id")
	nodeID := fs.String("node-id", "", "node id")
	setID := fs.String("set-id", "", "backup set id (retained-share)")
	index := fs.Int("index", 0, "share index (retained-share)")
	in := fs.String("in", "", "plaintext to seal (seal)")
	out := fs.String("out", "", "where to write the plaintext, mode 0600 (open)")
	replace := fs.Bool("replace", false, "seal over an existing file")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *data == "" {
		fmt.Fprintln(stderr, "custos-store: --data DIR is required")
		return 2
	}
	var ref custosstore.Ref
	switch *kind {
	case "keydata":
		ref = custosstore.KeydataRef(*keyID, *nodeID)
	case "share":
		ref = custosstore.ShareRef(*keyID, *nodeID)
	case "retained-share":
		ref = custosstore.RetainedShareRef(*keyID, *nodeID, *setID, *index)
	default:
		fmt.Fprintf(stderr, "custos-store: --kind must be keydata, share or retained-share, not %q\n", *kind)
		return 2
	}
	store, kek, err := custosstore.NewStore(*data)
	if err != nil {
		return fail(stderr, err)
	}
	defer kek.Close()
	if args[0] == "open" {
		if *out == "" {
			fmt.Fprintln(stderr, "custos-store open: --out FILE is required (plaintext is never printed)")
			return 2
		}
		plain, err := store.Read(ref)
		if err != nil {
			return fail(stderr, err)
		}
		defer wipe(plain)
		if err := writeNew(*out, plain); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "Opened %s: %d bytes written to %s (0600). It is secret: delete it when done.\n", ref, len(plain), *out)
		return 0
	}
	if *in == "" {
		fmt.Fprintln(stderr, "custos-store seal: --in FILE is required")
		return 2
	}
	plain, err := os.ReadFile(*in)
	if err != nil {
		return fail(stderr, err)
	}
	defer wipe(plain)
	path, err := store.Write(ref, plain, !*replace)
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "Sealed %s to %s.\n", ref, path)
	return 0
}

// writeNew creates path with mode 0600, refusing to replace anything there.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return &custosstore.Error{Code: custosstore.CodeConflict, Message: path + " exists already; choose a new file name"}
		}
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "custos-store: %v\n", err)
	return 1
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
