package tsskeydata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The repository's real tss-lib fixtures (test/fixtures/tss-lib, indented with two spaces).
func fixture(t *testing.T, scheme string, party int) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "test", "fixtures", "tss-lib", scheme, fmt.Sprintf("keygen_data_%d.json", party)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestFixturesDecodeAndMarshalInTssLibsCompactForm(t *testing.T) {
	for _, scheme := range []string{"ecdsa", "eddsa"} {
		for party := 0; party < 3; party++ {
			raw := fixture(t, scheme, party)
			k, err := Decode(raw)
			if err != nil {
				t.Fatalf("%s %d: %v", scheme, party, err)
			}
			if k.IsCompact {
				t.Fatalf("%s %d: the fixtures are indented, not compact", scheme, party)
			}
			if k.PartyIndex != party || k.Parties != 5 {
				t.Fatalf("%s %d: party %d of %d", scheme, party, k.PartyIndex, k.Parties)
			}
			want := map[string]string{"ecdsa": "secp256k1", "eddsa": "ed25519"}[scheme]
			if k.Curve != want {
				t.Fatalf("curve %s", k.Curve)
			}
			compact, err := k.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			var squeezed bytes.Buffer
			if err := json.Compact(&squeezed, raw); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(compact, squeezed.Bytes()) {
				t.Fatalf("%s %d: Marshal is not the fixture without its whitespace", scheme, party)
			}
			again, err := Decode(compact)
			if err != nil || !again.IsCompact {
				t.Fatalf("%s %d: the compact form decodes as compact: %v", scheme, party, err)
			}
		}
	}
}

func mutate(t *testing.T, raw []byte, edit func(m map[string]interface{})) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]interface{}
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIncompleteOrWrongFilesAreRefused(t *testing.T) {
	ec := fixture(t, "ecdsa", 0)
	ed := fixture(t, "eddsa", 1)
	cases := map[string][]byte{
		"not json":      []byte("{"),
		"neither":       []byte(`{"Xi":1}`),
		"both":          mutate(t, ed, func(m map[string]interface{}) { m["ECDSAPub"] = m["EDDSAPub"] }),
		"no Xi":         mutate(t, ed, func(m map[string]interface{}) { delete(m, "Xi") }),
		"quoted Xi":     mutate(t, ed, func(m map[string]interface{}) { m["Xi"] = "123" }),
		"unknown field": mutate(t, ed, func(m map[string]interface{}) { m["Extra"] = 1 }),
		"short BigXj":   mutate(t, ed, func(m map[string]interface{}) { m["BigXj"] = m["BigXj"].([]interface{})[:4] }),
		"foreign party": mutate(t, ed, func(m map[string]interface{}) { m["ShareID"] = json.Number("7") }),
		"wrong curve":   mutate(t, ed, func(m map[string]interface{}) { m["EDDSAPub"].(map[string]interface{})["Curve"] = "secp256k1" }),
		"off the curve": mutate(t, ed, func(m map[string]interface{}) { bumpX(m["EDDSAPub"]) }),
		"ecdsa off":     mutate(t, ec, func(m map[string]interface{}) { bumpX(m["BigXj"].([]interface{})[2]) }),
		"no PaillierSK": mutate(t, ec, func(m map[string]interface{}) { delete(m, "PaillierSK") }),
		"short H1j":     mutate(t, ec, func(m map[string]interface{}) { m["H1j"] = m["H1j"].([]interface{})[:1] }),
		"zero Alpha":    mutate(t, ec, func(m map[string]interface{}) { m["Alpha"] = json.Number("0") }),
		"one coordinate": mutate(t, ec, func(m map[string]interface{}) {
			m["ECDSAPub"].(map[string]interface{})["Coords"] = []interface{}{json.Number("1")}
		}),
	}
	for name, b := range cases {
		_, err := Decode(b)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if c := code(err); c != "KEYDATA_INVALID" && c != "MALFORMED" {
			t.Fatalf("%s: code %q (%v)", name, c, err)
		}
	}
	_, err := Decode(mutate(t, ed, func(m map[string]interface{}) { bumpX(m["EDDSAPub"]) }))
	if !strings.Contains(err.Error(), "EDDSAPub is not on the ed25519 curve") {
		t.Fatalf("message: %v", err)
	}
}

func bumpX(p interface{}) {
	coords := p.(map[string]interface{})["Coords"].([]interface{})
	x, _ := new(big.Int).SetString(string(coords[0].(json.Number)), 10)
	coords[0] = json.Number(x.Add(x, big.NewInt(1)).String())
}
