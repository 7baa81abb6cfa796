// Package custosstore reads and writes the sealed files a Custos recovery agent keeps for an MPC
// node — keys/<key_id>/<node_id>.enc, keys/<key_id>/<node_id>.keydata.enc and the retained backup
// shares — with the agent's local-file key-encryption key (<data>/kek.key). It is the Go side of
// docs/storage.md and uses the Go standard library only.
//
// Every file has its own random 256-bit data key, wrapped by the KEK, and is AES-256-GCM encrypted
// with associated data that binds the file's kind and owner (key_id, node_id, and set_id and share
// index for retained shares): a file copied to another key's or node's place, or changed by one
// byte, does not authenticate and Open returns CORRUPT_FILE without returning any plaintext.
package custosstore
