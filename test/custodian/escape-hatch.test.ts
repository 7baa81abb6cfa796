// The escape hatch, with Debian's `age` CLI (never skipped: a missing `age` fails with the install
// line). The CLI reads passphrases only from a terminal, so a Python pty drives it.
//
//   age -d -o key.txt identity.age     (passphrase)  → the identity file
//   age -d -i key.txt shares.age                     → the vault records as JSON, shares in hex
//
// And the passphrase format in all four directions: our non-blocking scrypt stanza is read by the
// `age` CLI and by typage; files written by `age -p` and by typage's setPassphrase unlock here.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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
  it('age -d identity.age (passphrase), then age -d -i key.txt shares.age gives every share', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    expect((await importEnvelope(v, set.envelope)).outcome).toBe('accepted');
    const work = tempDir();
    const keyFile = join(work, 'key.txt');

    expect(ageWithPassphrase('not the passphrase', ['-d', '-o', keyFile, v.path('identity')])).not.toBe(0);
    expect(ageWithPassphrase(PASSPHRASE, ['-d', '-o', keyFile, v.path('identity')])).toBe(0);
    const keyText = readFileSync(keyFile, 'utf8');
    expect(keyText).toContain(v.identity.age.identity);
    expect(keyText).toContain(`# ed25519-seed: ${toHex(v.identity.signing.seed)}`);

    const out = age(['-d', '-i', keyFile, v.path('shares')]);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const state = JSON.parse(out.stdout) as { format: string; shares: { keyId: string; shareIndex: number; share: string }[] };
    expect(state.format).toBe('custos-vault/1');
    // The custodian's signature over the state rides along as one more field.
    expect(out.stdout.trim()).toMatch(/,"sig":"[0-9a-f]{128}"\}$/);
    expect(state.shares).toHaveLength(1);
    expect(state.shares[0]).toMatchObject({ keyId: 'key-1', shareIndex: 3, share: toHex(set.share) });
    // The previous generation opens the same way.
    expect(age(['-d', '-i', keyFile, v.path('previous')]).status).toBe(0);
  });

  it('the age CLI and typage read our passphrase files, and we read theirs', async () => {
    const v = await createVault();
    const work = tempDir();
    const idFile = new Uint8Array(readFileSync(v.path('identity')));

    // typage's own passphrase decryption reads our stanza.
    const d = new Decrypter();
    d.addPassphrase(PASSPHRASE);
    expect(fromUtf8(await d.decrypt(idFile, 'uint8array'))).toContain(v.identity.age.identity);

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
