/**
 * An independent reader for the sealed payloads: Debian's `age` command-line tool (the escape hatch
 * of docs/protocol.md §5) decrypts what Custos seals, and Custos opens what `age` encrypts.
 * This test never skips: without the tool it fails and says how to install it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../shared/bytes';
import { openSealed, recipientOf } from '../../shared/crypto/seal';
import { custodianIdentityFingerprint, verifyEnvelope } from '../../shared/protocol';
import { at } from '../vectors/build';
import { readVectorFile } from '../vectors/load';
import { makeWorld, NOW } from './helpers';

const INSTALL = "install Debian's age: apt-get install -y age";

let dir: string | undefined;
/** Every test starts here: without the tool each test fails with the sentence that fixes it. */
function workDir(): string {
  const probe = spawnSync('age', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(`The age command-line tool is missing: ${INSTALL}`);
  dir ??= mkdtempSync(join(tmpdir(), 'custos-age-'));
  return dir;
}
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
/** Writes an age identity to a file only its owner can read, as a custodian would keep it. */
function keyFile(identity: string): string {
  const path = join(workDir(), `key-${String(counter++)}.txt`);
  writeFileSync(path, `${identity}\n`, { mode: 0o600 });
  expect(statSync(path).mode & 0o777).toBe(0o600);
  return path;
}

function ageDecrypt(identity: string, payload: Uint8Array): Uint8Array {
  const input = join(workDir(), `payload-${String(counter++)}.age`);
  writeFileSync(input, payload);
  return new Uint8Array(execFileSync('age', ['--decrypt', '-i', keyFile(identity), input], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe('Debian age reads what Custos seals, and the other way round', () => {
  it('age --version', () => {
    workDir();
    const out = spawnSync('age', ['--version'], { encoding: 'utf8' });
    expect(out.status, INSTALL).toBe(0);
    console.log(`age CLI ${out.stdout.trim()}`);
  });

  it('decrypts the checked-in envelope and export payloads with the custodian and session identities', () => {
    const { inputs } = readVectorFile();
    const held = at(inputs.shares, inputs.retain);
    expect(toHex(ageDecrypt(at(inputs.ageIdentities.custodians, 0), fromHex(inputs.envelopePayload)))).toBe(held);
    expect(toHex(ageDecrypt(inputs.ageIdentities.session, fromHex(inputs.exportPayload)))).toBe(held);
  });

  it('decrypts a fresh envelope payload with the custodian identity, and refuses another identity', async () => {
    const w = await makeWorld();
    for (const [i, env] of w.backup.envelopes.entries()) {
      const c = at(w.custodians, i);
      const opened = verifyEnvelope(env.bytes, w.agent.signing.publicKey, custodianIdentityFingerprint(c), NOW);
      const share = ageDecrypt(c.age.identity, opened.envelope.body.payload);
      expect(share.length).toBe(w.secret.length + 1);
      expect(share).toEqual(await openSealed(c.age.identity, opened.envelope.body.payload));
      const other = at(w.custodians, (i + 1) % w.custodians.length);
      expect(() => ageDecrypt(other.age.identity, opened.envelope.body.payload)).toThrow();
    }
  });

  it('Custos opens what age encrypts to a custodian recipient', async () => {
    const { inputs } = readVectorFile();
    const identity = at(inputs.ageIdentities.custodians, 0);
    const recipient = await recipientOf(identity);
    for (const length of [0, 1, 71, 4096, 65536 + 1]) {
      const plaintext = new Uint8Array(randomBytes(length));
      const input = join(workDir(), `plain-${String(counter)}.bin`);
      const output = join(workDir(), `sealed-${String(counter++)}.age`);
      writeFileSync(input, plaintext);
      execFileSync('age', ['-r', recipient, '-o', output, input]);
      expect(await openSealed(identity, new Uint8Array(readFileSync(output)))).toEqual(plaintext);
    }
  });
});
