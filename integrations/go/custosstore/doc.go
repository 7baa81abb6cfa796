// Package custosstore reads and writes the sealed files a Custos recovery agent keeps for an MPC
// node — keys/<key_id>/<node_id>.enc, keys/<key_id>/<node_id>.keydata.enc and the retained backup
// shares — with the agent's local-file key-encryption key (the file kek.json names, or the legacy
// <data>/kek.key). It is the Go side of docs/storage.md and uses the Go standard library only.
//
// Every file has its own random 256-bit data key, wrapped by the KEK, and is AES-256-GCM encrypted
// with associated data that binds the file's kind and owner (key_id, node_id, and set_id and share
// index for retained shares): a file copied to another key's or node's place, or changed by one
// byte, does not authenticate and Open returns CORRUPT_FILE without returning any plaintext.
// Seal writes sealed format version 2; Open reads versions 1 and 2. A version-2 retained share's
// data key is wrapped under the share's erase key (a KEK-sealed file beside the KEK file), which the
// agent destroys when it hard-deletes the share: afterwards every copy of that file is refused.
package custosstore
