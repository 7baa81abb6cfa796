// The escape hatch, with Debian's `age` CLI (never skipped: a missing `age` fails with the install
// line). The CLI reads passphrases only from a terminal, so a Python pty drives it.
//
//   age -d -o key.txt identity.age     (passphrase)  → the identity file
//   age -d -i key.txt store/FILE.age                 → the vault records as JSON, shares in hex
//
// identity.age is rewritten after every save without the KDF (same header, fresh payload nonce):
// the CLI and typage must read those rewrites as well as the first file.
//
// And the passphrase format in all four directions: our non-blocking scrypt stanza is read by the
// `age` CLI and by typage; files written by `age -p` and by typage's setPassphrase unlock here.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromUtf8, toHex } from '../../shared/bytes';
import { importEnvelope } from '../../main/services/inbox';
import { ScryptPassphraseIdentity } from '../../main/services/kdf';
import { Vault } from '../../main/services/vault';
import { createVault, makeAgent, makeSet, meOf, PASSPHRASE, pinned, tempDir, TEST_LOG_N } from './helpers';

const PTY_AGE = String.raw`
import os, pty, sys, select
passphrase = sys.argv[1].encode()
args = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(args[0], args)
seen = b''
answered = 0
while True:
    try:
        ready, _, _ = select.select([fd], [], [], 30)
    except OSError:
        break
    if not ready:
        break
    try:
        data = os.read(fd, 1024)
    except OSError:
        break
    if not data:
        break
    seen += data
    prompts = seen.lower().count(b'passphrase')
    if prompts > answered:
        os.write(fd, passphrase + b'\n')
        answered = prompts
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

/** Runs `age ARGS` with a terminal that types `passphrase` at every prompt. */
function ageWithPassphrase(passphrase: string, args: readonly string[]): number {
  const run = spawnSync('python3', ['-c', PTY_AGE, passphrase, 'age', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (run.error !== undefined) throw run.error;
  return run.status ?? -1;
}

function age(args: readonly string[]): { status: number; stdout: string; stderr: string } {
  const run = spawnSync('age', args, { encoding: 'utf8', timeout: 60_000 });
  if (run.error !== undefined) throw run.error;
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  const probe = spawnSync('age', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error('The `age` CLI is not installed, so the escape hatch cannot be checked: run `apt-get install -y age`.');
  }
  const py = spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error('python3 (with pty) is needed to type a passphrase into the age CLI.');
});

describe('escape hatch with the age CLI', () => {
  it('age -d identity.age (passphrase), then age -d -i key.txt on every store/ file gives every share', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    expect((await importEnvelope(v, set.envelope)).outcome).toBe('accepted');
    await v.save();
    const work = tempDir();
    const keyFile = join(work, 'key.txt');

    // identity.age as rewritten by the last save (no KDF run) opens with the passphrase in the CLI.
    expect(ageWithPassphrase('not the passphrase', ['-d', '-o', keyFile, v.path('identity')])).not.toBe(0);
    expect(ageWithPassphrase(PASSPHRASE, ['-d', '-o', keyFile, v.path('identity')])).toBe(0);
    const keyText = readFileSync(keyFile, 'utf8');
    expect(keyText).toContain(v.identity.age.identity);
    expect(keyText).toContain(`# ed25519-seed: ${toHex(v.identity.signing.seed)}`);
    expect(keyText).toContain(`# vault-generation: ${String(v.state.generation)}`);

    // The README's loop: every record file decrypts with the key file alone.
    const files = readdirSync(join(v.dir, 'store')).filter((f) => f.endsWith('.age')).sort();
    expect(files.some((f) => f.startsWith('snap-'))).toBe(true);
    expect(files.some((f) => f.startsWith('log-'))).toBe(true);
    const records: { items?: { share?: string; keyId?: string }[]; put?: { shares?: { keyId: string; shareIndex: number; share: string }[] } }[] = [];
    for (const f of files) {
      const out = age(['-d', '-i', keyFile, join(v.dir, 'store', f)]);
      expect(out.stderr, f).toBe('');
      expect(out.status, f).toBe(0);
      // Signed documents carry the custodian's signature as one more field.
      if (!/-[0-9]{4}\.age$/.test(f)) expect(out.stdout.trim(), f).toMatch(/,"sig":"[0-9a-f]{128}"\}$/);
      records.push(JSON.parse(out.stdout) as (typeof records)[number]);
    }
    // The import's journal entry holds the share, in hex, with its coordinates.
    const put = records.flatMap((r) => r.put?.shares ?? []);
    expect(put).toHaveLength(1);
    expect(put[0]).toMatchObject({ keyId: 'key-1', shareIndex: 3, share: toHex(set.share) });
    // After a compaction the snapshot parts hold it too.
    await v.compact();
    const snapParts = readdirSync(join(v.dir, 'store')).filter((f) => /^snap-[0-9]+-[0-9]{4}\.age$/.test(f));
    const texts = snapParts.map((f) => age(['-d', '-i', keyFile, join(v.dir, 'store', f)]).stdout);
    expect(texts.some((t) => t.includes(toHex(set.share)))).toBe(true);
  });

  it('the age CLI and typage read our passphrase files, and we read theirs', async () => {
    const v = await createVault();
    const work = tempDir();
    const idFile = new Uint8Array(readFileSync(v.path('identity')));

    // typage's own passphrase decryption reads our stanza, and our KDF-free rewrite after a save.
    const d = new Decrypter();
    d.addPassphrase(PASSPHRASE);
    expect(fromUtf8(await d.decrypt(idFile, 'uint8array'))).toContain(v.identity.age.identity);
    await v.save();
    const rewritten = new Uint8Array(readFileSync(v.path('identity')));
    expect(Buffer.from(rewritten).equals(Buffer.from(idFile))).toBe(false);
    expect(fromUtf8(await d.decrypt(rewritten, 'uint8array'))).toContain(`# vault-generation: ${String(v.state.generation)}`);

    // A file encrypted by `age -p` (work factor 18, the CLI's default) decrypts with our identity.
    const plain = join(work, 'plain.txt');
    const enc = join(work, 'by-cli.age');
    writeFileSync(plain, 'made by the age CLI\n');
    expect(ageWithPassphrase(PASSPHRASE, ['-p', '-o', enc, plain])).toBe(0);
    const ours = new ScryptPassphraseIdentity(PASSPHRASE);
    const dec = new Decrypter();
    dec.addIdentity(ours);
    expect(fromUtf8(await dec.decrypt(new Uint8Array(readFileSync(enc)), 'uint8array'))).toBe('made by the age CLI\n');
    expect(ours.logN).toBe(18);

    // identity.age rewritten by typage's Encrypter.setPassphrase still unlocks the vault.
    const text = await d.decrypt(idFile, 'uint8array');
    const e = new Encrypter();
    e.setPassphrase(PASSPHRASE);
    e.setScryptWorkFactor(TEST_LOG_N);
    writeFileSync(v.path('identity'), await e.encrypt(text));
    await v.lock();
    const reopened = await Vault.open(v.dir);
    expect((await reopened.unlock(PASSPHRASE)).kdfLogN).toBe(TEST_LOG_N);
    expect(reopened.identity.age.recipient).toBe(v.info.ageRecipient);
  });
});
