// Issue 12: the custodian CLI's `import` prints each refusal with its class (possible attack /
// not for you or out of date / harmless) and each class's advice once, in the chosen language; an
// attack is never advised to ask the sender again, and "receipt --all --status rejected" leaves the
// harmless ones out. Driven in process through main/cli.ts's main(), as a script would run it.
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeCanonical, decodeCanonical } from '../../shared/protocol/cbor';
import { custodianFingerprint, openCustodianCard, openReceipt } from '../../shared/protocol';
import { main } from '../../main/cli';
import { makeAgent, makeSet, tempDir } from '../custodian/helpers';

const ENV = { CUSTOS_PASSPHRASE: 'a long cli passphrase for classes', CUSTOS_INSECURE_SCRYPT_LOGN: '10' };

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: ENV });
  return { code, stdout, stderr };
}

function tamper(file: Uint8Array): Uint8Array {
  const frame = decodeCanonical(file) as { s: Uint8Array };
  const s = Uint8Array.from(frame.s);
  s[0]! ^= 0x01;
  return encodeCanonical({ ...frame, s });
}

describe('custodian CLI import: refusal classes', () => {
  it('labels each refusal, prints each class advice once, and never offers the harmless a rejection', async () => {
    const work = tempDir();
    const vault = join(work, 'vault');
    const created = await run('vault', 'create', '--vault', vault, '--name', 'Carol (classes)', '--json');
    expect(created.code, created.stderr).toBe(0);
    const cardPath = (JSON.parse(created.stdout) as { card: string }).card;
    const { readFileSync } = await import('node:fs');
    const card = openCustodianCard(new Uint8Array(readFileSync(cardPath)));
    const me = { fingerprint: custodianFingerprint(card.body.sign_key, card.body.age_recipient), ageRecipient: card.body.age_recipient };
    const agent = makeAgent();
    writeFileSync(join(work, 'agent.custos'), agent.card);
    expect((await run('pin-agent', '--vault', vault, '--card', join(work, 'agent.custos'), '--confirm-code', agent.code)).code).toBe(0);

    const now = Math.floor(Date.now() / 1000);
    const other = makeAgent('someone else');
    const inbox = join(work, 'inbox');
    mkdirSync(inbox);
    const good = (await makeSet(agent.id, me, { keyId: 'key-good', now: now - 60 })).envelope;
    writeFileSync(join(inbox, 'a-good.custos'), good);
    writeFileSync(join(inbox, 'b-tampered.custos'), tamper((await makeSet(agent.id, me, { keyId: 'key-tampered', now: now - 60 })).envelope));
    writeFileSync(join(inbox, 'c-foreign.custos'), (await makeSet(other.id, me, { keyId: 'key-foreign', now: now - 60 })).envelope);
    writeFileSync(join(inbox, 'd-expired.custos'), (await makeSet(agent.id, me, { keyId: 'key-expired', createdAt: now - 7200, notAfter: now - 3600, now })).envelope);
    writeFileSync(join(inbox, 'e-notes.txt'), 'Lunch on Friday.\n');

    const en = await run('import', '--vault', vault, inbox);
    expect(en.code, en.stderr).toBe(3);
    const line = (name: string): string => en.stdout.split('\n').find((l) => l.includes(name)) ?? '';
    expect(line('b-tampered')).toMatch(/^refused +\S+ +\[POSSIBLE ATTACK\] SIGNATURE_INVALID: /);
    expect(line('c-foreign')).toContain('[POSSIBLE ATTACK] UNTRUSTED_SIGNER');
    expect(line('d-expired')).toContain('[not for you / out of date] EXPIRED');
    expect(line('e-notes.txt')).toContain('[harmless] MALFORMED');
    // Each class's advice once; the attack's says report it, never ask the sender for a fresh copy.
    expect(en.stdout.match(/^Possible attack: do not use this file/gm)).toHaveLength(1);
    expect(en.stdout).toContain('report it to security');
    expect(en.stdout.match(/^Harmless: /gm)).toHaveLength(1);
    expect(en.stdout.toLowerCase()).not.toMatch(/ask the sender for a (fresh|new)/);

    // The same file again, in Chinese and as JSON: a harmless duplicate, with its class in the data.
    writeFileSync(join(work, 'again.custos'), good);
    const zh = await run('import', '--vault', vault, '--lang', 'zh-CN', join(work, 'again.custos'), '--json');
    const again = (JSON.parse(zh.stdout) as { results: { code: string; refusal: { class: string; offerSignedRejection: boolean } }[] }).results[0]!;
    expect(again).toMatchObject({ code: 'DUPLICATE_ENVELOPE', refusal: { class: 'harmless', offerSignedRejection: false } });
    const zhText = await run('import', '--vault', vault, '--lang', 'zh-CN', join(work, 'again.custos'));
    expect(zhText.stdout).toContain('[无害] DUPLICATE_ENVELOPE');
    expect(zhText.stdout).toContain('无害：');

    // "Rejected for all" answers the tampered, foreign-signed and expired envelopes, not notes.txt.
    const out = join(work, 'receipts');
    const signed = await run('receipt', '--vault', vault, '--all', '--status', 'rejected', '--out', out);
    expect(signed.code, signed.stderr).toBe(0);
    const files = readdirSync(out).filter((f) => f.endsWith('.custos'));
    const keys = files.map((f) => openReceipt(new Uint8Array(readFileSync(join(out, f))), card.body.sign_key).body.key_id).sort();
    expect(keys).toEqual(['key-expired', 'key-foreign', 'key-tampered']);
  });
});
