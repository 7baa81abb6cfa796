/**
 * Issue 12, "the approver's private key is plain JSON": the approver program keeps its key in an
 * age passphrase file, with the passphrase from a private file, an environment variable or a
 * prompt, never an argument; weak passphrases are refused by the vault's policy; an older plain
 * key still signs, with a warning, and `approver rewrap` encrypts it in place. Driven through the
 * real approver program (in this process, and spawned as its own process), and the file opened
 * with typage's own passphrase decrypter as an independent reader of the age format.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { approverFingerprint, createApproverIdentity, makeApproverCard, openApproval, type SessionDetails, encodeCanonical } from '../../shared/protocol';
import { APPROVER_TEST_KDF, APPROVER_TEST_PASSPHRASE, approverWithEnv, removeTempDirs, runApprover, tempDir } from '../agent-cli/helpers';

afterAll(removeTempDirs);

const work = tempDir('custos-approver-key-');
const STRONG = 'lantern-orbit-cactus-mellow-ripple-granite';
const passFile = (name: string, text: string, mode = 0o600): string => {
  const f = join(work, name);
  writeFileSync(f, `${text}\n`, { mode });
  chmodSync(f, mode);
  return f;
};
const noEnv = (...argv: string[]) => approverWithEnv({}, ...argv);
const withPass = (pass: string, ...argv: string[]) => approverWithEnv({ CUSTOS_APPROVER_PASSPHRASE: pass }, ...argv);

const now = Math.floor(Date.now() / 1000);
const session: SessionDetails = {
  session_id: new Uint8Array(16).fill(7),
  incident_id: 'INC-KEY-1',
  key_id: 'key-1',
  node_id: 'node-0',
  set_id: new Uint8Array(16).fill(3),
  epoch: 1,
  mode: 'external-only',
  not_after: now + 3600,
};
const sessionFile = join(work, 'session.cbor');

beforeAll(() => {
  writeFileSync(sessionFile, encodeCanonical(session));
});

describe("the approver's key file", () => {
  it('keygen takes the passphrase from a private file, never from an argument, and refuses a weak one', async () => {
    const dir = join(work, 'alice');
    const none = await noEnv('keygen', '--out', dir, '--name', 'Alice (security)', ...APPROVER_TEST_KDF);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/No passphrase: give --passphrase-file FILE .* or set CUSTOS_APPROVER_PASSPHRASE; a passphrase is never taken on the command line\. \(USAGE\)/);
    const argv = await noEnv('keygen', '--out', dir, '--name', 'Alice (security)', '--passphrase', STRONG);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toContain('never accepted on the command line');
    expect(argv.stdout + argv.stderr).not.toContain(STRONG);
    const weak = await noEnv('keygen', '--out', dir, '--name', 'Alice (security)', '--passphrase-file', passFile('weak.txt', 'password123'), ...APPROVER_TEST_KDF);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/too weak for approver\.key: .*Nothing was written\. \(WEAK_PASSPHRASE\)/);
    const open = await noEnv('keygen', '--out', dir, '--name', 'Alice (security)', '--passphrase-file', passFile('open.txt', STRONG, 0o644), ...APPROVER_TEST_KDF);
    expect(open.stderr).toContain('(PERMISSION_DENIED)');
    expect(existsSync(join(dir, 'approver.key'))).toBe(false);

    const ok = await noEnv('keygen', '--out', dir, '--name', 'Alice (security)', '--passphrase-file', passFile('alice.txt', STRONG), ...APPROVER_TEST_KDF, '--json');
    expect(ok.code, ok.stderr).toBe(0);
    const keyFile = join(dir, 'approver.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // A standard age passphrase file: typage's own decrypter opens it with the passphrase, and nothing else does.
    const sealed = new Uint8Array(readFileSync(keyFile));
    const d = new Decrypter();
    d.addPassphrase(STRONG);
    const inner = JSON.parse(await d.decrypt(sealed, 'text')) as { format: string; seed: string; public_key: string };
    expect(inner.format).toBe('custos-approver-key');
    expect(Buffer.from(sealed).toString('latin1')).not.toContain(inner.seed);
    const wrong = new Decrypter();
    wrong.addPassphrase('not the passphrase at all');
    await expect(wrong.decrypt(sealed)).rejects.toThrow();
    expect(toHex(approverFingerprint(Buffer.from(inner.public_key, 'hex')))).toBe((JSON.parse(ok.stdout) as { fingerprint: string }).fingerprint);
  });

  it('sign asks the passphrase only of an encrypted key; a wrong one signs nothing; a damaged file is named', async () => {
    const keyFile = join(work, 'alice', 'approver.key');
    const out = join(work, 'approval.cbor');
    const wrong = await withPass('entirely different words here', 'sign', '--key', keyFile, '--session', sessionFile, '--out', out, '--yes');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('The passphrase does not open approver.key. Nothing was signed. (WRONG_PASSPHRASE)');
    expect(existsSync(out)).toBe(false);
    // Signed in a separate process, the passphrase from the file.
    const signed = await runApprover(['sign', '--key', keyFile, '--session', sessionFile, '--out', out, '--yes', '--passphrase-file', join(work, 'alice.txt')]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stderr).not.toContain('warning');
    expect(openApproval(new Uint8Array(readFileSync(out)), session).body.approver_name).toBe('Alice (security)');
    const damaged = join(work, 'damaged.key');
    const bytes = new Uint8Array(readFileSync(keyFile));
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 1;
    writeFileSync(damaged, bytes, { mode: 0o600 });
    const bad = await withPass(STRONG, 'sign', '--key', damaged, '--session', sessionFile, '--out', join(work, 'x.cbor'), '--yes');
    expect(bad.stderr).toContain('(CORRUPT_FILE)');
  });

  it('an older plain key still signs with a warning, and rewrap encrypts it in place with the same key', async () => {
    const id = createApproverIdentity('Bob (business owner)');
    const dir = join(work, 'bob');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { mode: 0o700 });
    const keyFile = join(dir, 'approver.key');
    const plain = { format: 'custos-approver-key', version: 1, name: id.name, public_key: toHex(id.signing.publicKey), seed: toHex(id.signing.seed), created_at: now };
    writeFileSync(keyFile, `${JSON.stringify(plain)}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'approver.card'), makeApproverCard(id, now));
    const out1 = join(dir, 'approval-1.cbor');
    const old = await noEnv('sign', '--key', keyFile, '--session', sessionFile, '--out', out1, '--yes');
    expect(old.code, old.stderr).toBe(0);
    expect(old.stderr).toMatch(/^warning: approver\.key is not protected by a passphrase .* approver rewrap --key /m);

    const weak = await noEnv('rewrap', '--key', keyFile, '--new-passphrase-file', passFile('bob-weak.txt', 'bobbob123'), ...APPROVER_TEST_KDF);
    expect(weak.stderr).toContain('(WEAK_PASSPHRASE)');
    expect(readFileSync(keyFile, 'utf8')).toContain('"seed"'); // unchanged
    const r = await noEnv('rewrap', '--key', keyFile, '--new-passphrase-file', passFile('bob.txt', STRONG), ...APPROVER_TEST_KDF, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ wasLegacy: true, fingerprint: toHex(approverFingerprint(id.signing.publicKey)) });
    const sealed = readFileSync(keyFile);
    expect(sealed.subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    expect(sealed.toString('latin1')).not.toContain(plain.seed);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // Now it needs the passphrase, warns no more, and signs as the same approver.
    expect((await noEnv('sign', '--key', keyFile, '--session', sessionFile, '--out', join(dir, 'x.cbor'), '--yes')).stderr).toContain('(USAGE)');
    const out2 = join(dir, 'approval-2.cbor');
    const after = await withPass(STRONG, 'sign', '--key', keyFile, '--session', sessionFile, '--out', out2, '--yes');
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toBe('');
    expect(openApproval(new Uint8Array(readFileSync(out2)), session).approverKey).toEqual(id.signing.publicKey);

    // A change of passphrase: the current one from the environment, the new one from a file.
    const next = 'harbor-pencil-thistle-quantum-meadow-falcon';
    const changed = await withPass(STRONG, 'rewrap', '--key', keyFile, '--new-passphrase-file', passFile('bob-next.txt', next), ...APPROVER_TEST_KDF, '--json');
    expect(changed.code, changed.stderr).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ wasLegacy: false });
    expect((await withPass(STRONG, 'sign', '--key', keyFile, '--session', sessionFile, '--out', join(dir, 'y.cbor'), '--yes')).stderr).toContain('(WRONG_PASSPHRASE)');
    expect((await withPass(next, 'sign', '--key', keyFile, '--session', sessionFile, '--out', join(dir, 'y.cbor'), '--yes')).code).toBe(0);
    expect(APPROVER_TEST_PASSPHRASE).not.toBe(next);
  });
});
