/**
 * The node reads what the agent writes (issue 11 §1): integrations/go/custosstore, built with the
 * real Go compiler, against a real agent's data directory. Go opens the agent's share record,
 * keydata and retained shares byte for byte; the agent reads files Go sealed; a file moved to
 * another key's or node's place, or changed by one byte, is refused by both; the worked examples
 * of docs/storage.md (format versions 1 and 2) open in TypeScript; a retained share the agent
 * removed (its erase key destroyed) opens in neither; and the path the doc gives for an HSM KEK (`agent
 * keyshare export` to the node's storage, then custos-keydata --plain) works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SecretStore, type SecretRef } from '../../agent/secret-store';
import { LocalFileKek } from '../../agent/kek/file';
import { openKek } from '../../agent/kek/config';
import { createWorld, fixture, type World } from '../rpc/world';
import { buildGo, GO_MODULE, MISSING_GO, ROOT, type GoToolchain } from './go';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

describe('integrations/go/custosstore and the agent share one file format', () => {
  let go: GoToolchain;
  let w: World;
  let data: string;
  let store: SecretStore;
  let out: string;
  let n = 0;
  const fresh = (name: string): string => join(out, `${String(n++)}-${name}`);

  const goOpen = (ref: { kind: string; keyId: string; nodeId: string; setId?: string; index?: number }) => {
    const file = fresh('plain');
    const args = ['open', '--data', data, '--kind', ref.kind, '--key-id', ref.keyId, '--node-id', ref.nodeId, '--out', file];
    if (ref.setId !== undefined) args.push('--set-id', ref.setId, '--index', String(ref.index));
    const r = go.run('custos-store', args);
    return { ...r, bytes: r.code === 0 ? new Uint8Array(readFileSync(file)) : undefined, file };
  };
  const goSeal = (ref: { kind: string; keyId: string; nodeId: string; setId?: string; index?: number }, plain: Uint8Array) => {
    const file = fresh('in');
    writeFileSync(file, plain, { mode: 0o600 });
    const args = ['seal', '--data', data, '--kind', ref.kind, '--key-id', ref.keyId, '--node-id', ref.nodeId, '--in', file, '--replace'];
    if (ref.setId !== undefined) args.push('--set-id', ref.setId, '--index', String(ref.index));
    return go.run('custos-store', args);
  };
  const tsCode = async (ref: SecretRef): Promise<string | undefined> => {
    try {
      await store.read(ref);
      return 'read';
    } catch (e) {
      return typeof e === 'object' && e !== null ? String((e as { code?: unknown }).code) : undefined;
    }
  };

  beforeAll(async () => {
    go = buildGo();
    w = await createWorld();
    data = join(w.dir, 'data');
    await w.agent.importKeyshare('key-ed', 'node-2', fixture('eddsa', 1));
    store = new SecretStore(data, openKek(data));
    out = mkdtempSync(join(tmpdir(), 'custos-go-out-'));
  });
  afterAll(() => {
    (w as World | undefined)?.close();
    (go as GoToolchain | undefined)?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('passes its own Go tests, go vet and gofmt', () => {
    const r = go.test();
    expect(r.stderr + r.stdout).toMatch(/ok\s+custos\/integrations\/go\/custosstore/);
    expect(r.stdout).toMatch(/ok\s+custos\/integrations\/go\/tsskeydata/);
    expect(r.stdout).toMatch(/ok\s+custos\/integrations\/go\/agentclient/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const vet = spawnSync('go', ['vet', './...'], { cwd: GO_MODULE, env: go.env, encoding: 'utf8' });
    expect(vet.status, vet.stderr).toBe(0);
    const unformatted = spawnSync('gofmt', ['-l', '.'], { cwd: GO_MODULE, env: go.env, encoding: 'utf8' });
    expect(unformatted.status, unformatted.stderr).toBe(0);
    expect(unformatted.stdout, 'gofmt -l lists files that are not formatted').toBe('');
  });

  it('fails, saying what to install, when there is no Go compiler', () => {
    expect(() => buildGo('/nonexistent')).toThrow(MISSING_GO);
    expect(MISSING_GO).toContain('apt-get install -y golang-go');
  });

  it('Go reads the share record, the keydata and the retained shares the agent wrote, byte for byte', async () => {
    for (const [keyId, nodeId, sha] of [
      ['key-1', 'node-1', w.imported.keydataSha256],
      ['key-ed', 'node-2', undefined],
    ] as const) {
      const exported = await w.agent.exportKeydata(keyId, nodeId);
      const keydata = goOpen({ kind: 'keydata', keyId, nodeId });
      expect(keydata.stderr).toBe('');
      expect(keydata.code).toBe(0);
      expect(Buffer.from(keydata.bytes!).equals(Buffer.from(exported))).toBe(true);
      if (sha !== undefined) expect(sha256(keydata.bytes!)).toBe(sha);
      expect(statSync(keydata.file).mode & 0o777).toBe(0o600);

      const share = goOpen({ kind: 'share', keyId, nodeId });
      expect(share.code, share.stderr).toBe(0);
      expect(Buffer.from(share.bytes!).equals(Buffer.from(await store.read({ kind: 'share', keyId, nodeId })))).toBe(true);
    }
    const setId = w.backup.setId;
    for (const index of [1, 2]) {
      const ref = { kind: 'retained-share', keyId: 'key-1', nodeId: 'node-1', setId, index } as const;
      const r = goOpen(ref);
      expect(r.code, r.stderr).toBe(0);
      expect(Buffer.from(r.bytes!).equals(Buffer.from(await store.read(ref)))).toBe(true);
    }
  });

  it('custos-keydata loads the regenerated keydata into LocalPartySaveData form, as the agent stored it', async () => {
    const exported = await w.agent.exportKeydata('key-1', 'node-1');
    const file = fresh('keydata.json');
    const r = go.run('custos-keydata', ['--data', data, '--key-id', 'key-1', '--node-id', 'node-1', '--out', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("secp256k1, party 0 of 5 (tss-lib's compact json.Marshal form)");
    expect(r.stdout).toContain(`sha256 ${w.imported.keydataSha256}`);
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(exported))).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Never over an existing file.
    const again = go.run('custos-keydata', ['--data', data, '--key-id', 'key-1', '--node-id', 'node-1', '--out', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('CONFLICT');

    const ed = go.run('custos-keydata', ['--data', data, '--key-id', 'key-ed', '--node-id', 'node-2']);
    expect(ed.code, ed.stderr).toBe(0);
    expect(ed.stdout).toContain('ed25519, party 1 of 5');
  });

  it('the agent reads what Go sealed', async () => {
    const keydata = await w.agent.exportKeydata('key-1', 'node-1');
    const record = await store.read({ kind: 'share', keyId: 'key-1', nodeId: 'node-1' });
    const before = readFileSync(join(data, 'keys', 'key-1', 'node-1.keydata.enc'));
    expect(goSeal({ kind: 'keydata', keyId: 'key-1', nodeId: 'node-1' }, keydata).code).toBe(0);
    expect(goSeal({ kind: 'share', keyId: 'key-1', nodeId: 'node-1' }, record).code).toBe(0);
    const after = readFileSync(join(data, 'keys', 'key-1', 'node-1.keydata.enc'));
    expect(after.equals(before)).toBe(false); // a fresh data key and nonce: Go really wrote it
    expect(after.subarray(0, 6).equals(before.subarray(0, 6))).toBe(true);
    // The whole agent, not only the store: export checks the sha, inspect rebuilds keydata from the record.
    expect(Buffer.from(await w.agent.exportKeydata('key-1', 'node-1')).equals(Buffer.from(keydata))).toBe(true);
    expect(await w.agent.inspectNode('key-1', 'node-1')).toMatchObject({ shareFile: 'ok', keydataFile: 'ok', consistent: true, ok: true });

    const retained = { kind: 'retained-share', keyId: 'key-1', nodeId: 'node-1', setId: w.backup.setId, index: 2 } as const;
    const share2 = await store.read(retained);
    expect(goSeal(retained, share2).code).toBe(0);
    expect(Buffer.from(await store.read(retained)).equals(Buffer.from(share2))).toBe(true);

    const plain = new TextEncoder().encode('written by Go for a node the agent never saw');
    expect(goSeal({ kind: 'keydata', keyId: 'key-9', nodeId: 'node-9' }, plain).code).toBe(0);
    expect(new TextDecoder().decode(await store.read({ kind: 'keydata', keyId: 'key-9', nodeId: 'node-9' }))).toBe('written by Go for a node the agent never saw');
    expect(statSync(join(data, 'keys', 'key-9', 'node-9.keydata.enc')).mode & 0o777).toBe(0o600);
  });

  it('a file moved to another key, node, kind or share index is refused by both', async () => {
    const src = join(data, 'keys', 'key-1', 'node-1.keydata.enc');
    const shareSrc = join(data, 'keys', 'key-1', 'node-1.enc');
    const retainedSrc = join(data, 'backup', 'key-1', 'node-1', w.backup.setId, '1.enc');
    const moves: { from: string; ref: { kind: 'keydata' | 'share'; keyId: string; nodeId: string } | { kind: 'retained-share'; keyId: string; nodeId: string; setId: string; index: number } }[] = [
      { from: src, ref: { kind: 'keydata', keyId: 'key-1', nodeId: 'node-x' } },
      { from: src, ref: { kind: 'keydata', keyId: 'key-x', nodeId: 'node-1' } },
      { from: src, ref: { kind: 'keydata', keyId: 'key-ed', nodeId: 'node-2' } },
      { from: shareSrc, ref: { kind: 'keydata', keyId: 'key-1', nodeId: 'node-y' } },
      { from: src, ref: { kind: 'share', keyId: 'key-1', nodeId: 'node-z' } },
      { from: retainedSrc, ref: { kind: 'retained-share', keyId: 'key-1', nodeId: 'node-1', setId: w.backup.setId, index: 9 } },
      { from: retainedSrc, ref: { kind: 'retained-share', keyId: 'key-1', nodeId: 'node-1', setId: 'ffeeddccbbaa99887766554433221100', index: 1 } },
    ];
    const edKeydata = readFileSync(join(data, 'keys', 'key-ed', 'node-2.keydata.enc'));
    for (const { from, ref } of moves) {
      const to = store.pathOf(ref);
      mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
      copyFileSync(from, to);
      chmodSync(to, 0o600);
      const r = goOpen(ref);
      expect(r.code, JSON.stringify(ref)).toBe(1);
      expect(r.stderr).toMatch(/^custos-store: CORRUPT_FILE: /);
      expect(r.bytes).toBeUndefined();
      expect(await tsCode(ref)).toBe('CORRUPT_FILE');
    }
    writeFileSync(join(data, 'keys', 'key-ed', 'node-2.keydata.enc'), edKeydata, { mode: 0o600 });
  });

  it('a file changed by one byte is refused by both, wherever the byte is, and left as it was', async () => {
    const ref = { kind: 'keydata', keyId: 'key-1', nodeId: 'node-1' } as const;
    const path = store.pathOf(ref);
    const good = readFileSync(path);
    const kekLen = good[6]!;
    const wrappedAt = 7 + kekLen + 1;
    const nonceAt = wrappedAt + good[7 + kekLen]!;
    const positions = { magic: 0, version: 4, kind: 5, 'kek id': 8, 'wrapped key': wrappedAt + 20, nonce: nonceAt + 3, ciphertext: nonceAt + 12 + 100, tag: good.length - 1 };
    for (const [where, at] of Object.entries(positions)) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ 0x01;
      writeFileSync(path, bad, { mode: 0o600 });
      const r = goOpen(ref);
      expect(r.code, where).toBe(1);
      expect(r.stderr, where).toMatch(/^custos-store: CORRUPT_FILE: The keydata file of key key-1 node node-1 is unusable: /);
      expect(await tsCode(ref), where).toBe('CORRUPT_FILE');
      const k = go.run('custos-keydata', ['--data', data, '--key-id', 'key-1', '--node-id', 'node-1']);
      expect(k.code, where).toBe(1);
      expect(readFileSync(path).equals(bad), where).toBe(true); // neither reader changed it
    }
    const truncated = good.subarray(0, good.length - 1);
    writeFileSync(path, truncated, { mode: 0o600 });
    expect(goOpen(ref).code).toBe(1);
    expect(await tsCode(ref)).toBe('CORRUPT_FILE');
    writeFileSync(path, good, { mode: 0o600 });
    expect(await tsCode(ref)).toBe('read');
  });

  it.each(['worked-example.json', 'worked-example-v2.json'])('the worked example %s of docs/storage.md opens in TypeScript and is the one in the doc', async (name) => {
    const ex = JSON.parse(readFileSync(join(GO_MODULE, 'custosstore', 'testdata', name), 'utf8')) as Record<string, string>;
    const dir = mkdtempSync(join(tmpdir(), 'custos-go-example-'));
    try {
      writeFileSync(join(dir, 'kek.key'), Buffer.from(ex['kek_key']!, 'hex'), { mode: 0o600 });
      const kek = LocalFileKek.open(dir);
      expect(kek.id).toBe(ex['kek_id']);
      const s = new SecretStore(dir, kek);
      const sealed = new Uint8Array(Buffer.from(ex['sealed']!, 'hex'));
      expect(sealed[4]).toBe(Number(ex['version'] ?? 1));
      const plain = await s.open({ kind: 'keydata', keyId: ex['key_id']!, nodeId: ex['node_id']! }, sealed);
      expect(new TextDecoder().decode(plain)).toBe(ex['plaintext']);
      await expect(s.open({ kind: 'keydata', keyId: ex['key_id']!, nodeId: 'node-2' }, sealed)).rejects.toMatchObject({ code: 'CORRUPT_FILE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const doc = readFileSync(join(ROOT, 'docs', 'storage.md'), 'utf8').replace(/\s+/g, '');
    for (const field of ['kek_key', 'kek_id', 'context', 'data_key', 'wrapped', 'nonce', 'sealed']) {
      expect(doc, field).toContain(ex[field]!.replace(/\s+/g, ''));
    }
  });

  it('a retained share the agent removed is crypto-erased for both: a copy of its file opens neither in Go nor in TypeScript', async () => {
    const ref = { kind: 'retained-share', keyId: 'key-1', nodeId: 'node-1', setId: w.backup.setId, index: 1 } as const;
    const path = store.pathOf(ref);
    const copy = readFileSync(path);
    expect(copy[4]).toBe(2);
    expect(goOpen(ref).code).toBe(0);
    expect(store.remove(ref)).toBe(true); // what the purge does: the erase key first, then the file
    writeFileSync(path, copy, { mode: 0o600 });
    const r = goOpen(ref);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^custos-store: CORRUPT_FILE: .*crypto-erased/);
    expect(await tsCode(ref)).toBe('CORRUPT_FILE');
    // The set's other share is untouched.
    expect(goOpen({ ...ref, index: 2 }).code).toBe(0);
    expect(await tsCode({ ...ref, index: 2 })).toBe('read');
    // An erase key Go made (a retained share of a set the agent never wrote) is one the agent reads and destroys.
    const goRef = { kind: 'retained-share', keyId: 'key-1', nodeId: 'node-1', setId: 'a1'.repeat(16), index: 3 } as const;
    expect(goSeal(goRef, new Uint8Array([7, 7, 7])).code).toBe(0);
    expect(await store.read(goRef)).toEqual(new Uint8Array([7, 7, 7]));
    const goCopy = readFileSync(store.pathOf(goRef));
    expect(store.remove(goRef)).toBe(true);
    writeFileSync(store.pathOf(goRef), goCopy, { mode: 0o600 });
    expect(goOpen(goRef).code).toBe(1);
    expect(await tsCode(goRef)).toBe('CORRUPT_FILE');
  });

  it('with any KEK (an HSM too) the node gets its keydata through `agent keyshare export`, as the doc says', () => {
    const file = fresh('exported.json');
    const exp = spawnSync(TSX, ['agent/cli.ts', 'keyshare', 'export', '--data', data, '--key-id', 'key-1', '--node-id', 'node-1', '--out', file], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    expect(exp.status, exp.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(sha256(readFileSync(file))).toBe(w.imported.keydataSha256);
    const loaded = fresh('loaded.json');
    const r = go.run('custos-keydata', ['--plain', file, '--out', loaded]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("secp256k1, party 0 of 5 (tss-lib's compact json.Marshal form)");
    expect(readFileSync(loaded).equals(readFileSync(file))).toBe(true);
    // An export others can read is refused (the agent writes them 0600); so is a non-keydata file.
    chmodSync(file, 0o644);
    const open = go.run('custos-keydata', ['--plain', file]);
    expect(open.code).toBe(1);
    expect(open.stderr).toContain('PERMISSION_DENIED');
    const junk = fresh('junk.json');
    writeFileSync(junk, '{"Xi":1}', { mode: 0o600 });
    expect(go.run('custos-keydata', ['--plain', junk]).stderr).toContain('KEYDATA_INVALID');
  });
});
