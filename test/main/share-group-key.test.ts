// Issue 12 (H14): the signed manifest names the group public key (docs/protocol.md §4.2
// `group_key`), so a custodian can compare it before a recovery; after one, the drill's (and the
// station's) value is the same. Older manifests without it still open, and `custos details` says
// to compare after recovery then. The field is covered by the agent's signature and checked on its
// curve.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex, randomBytes } from '../../shared/bytes';
import { groupKeyOf, parseKeydata } from '../../shared/keydata';
import { custodianFingerprint, openCustodianCard, peekMessage } from '../../shared/protocol';
import { decodeCanonical, encodeCanonical } from '../../shared/protocol/cbor';
import { makeManifest, manifestGroupKey, manifestSchema, openManifest } from '../../shared/protocol/manifest';
import { main } from '../../main/cli';
import { runDrill } from '../../scripts/drill';
import { makeAgent, makeSet, tempDir } from '../custodian/helpers';
import { makeWorld } from '../protocol/helpers';

const F = new URL('../fixtures/tss-lib/', import.meta.url).pathname;
const ENV = { CUSTOS_PASSPHRASE: 'a long cli passphrase for group keys', CUSTOS_INSECURE_SCRYPT_LOGN: '10' };

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: ENV });
  return { code, stdout, stderr };
}

describe('manifest group_key', () => {
  it('is optional (an older manifest opens), checked on its curve, and covered by the signature', async () => {
    const w = await makeWorld();
    const old = openManifest(w.backup.manifestBytes, w.agent.signing.publicKey).body;
    expect(old.group_key).toBeUndefined();
    expect(manifestGroupKey(old)).toBeUndefined();

    const eddsa = groupKeyOf(parseKeydata(readFileSync(join(F, 'eddsa', 'keygen_data_0.json'))));
    const ecdsa = groupKeyOf(parseKeydata(readFileSync(join(F, 'ecdsa', 'keygen_data_0.json'))));
    const signed = makeManifest({ ...old, group_key: fromHex(eddsa.compressed) }, w.agent.signing);
    expect(manifestGroupKey(openManifest(signed, w.agent.signing.publicKey).body)).toEqual(eddsa);

    // A secp256k1 key on an ed25519 manifest, a wrong length, or bytes that are no point: refused.
    expect(manifestSchema.safeParse({ ...old, group_key: fromHex(ecdsa.compressed) }).success).toBe(false);
    expect(manifestSchema.safeParse({ ...old, curve: 'secp256k1', group_key: fromHex(ecdsa.compressed) }).success).toBe(true);
    const notAPoint = fromHex(ecdsa.compressed);
    notAPoint[0] = 0x05;
    expect(manifestSchema.safeParse({ ...old, curve: 'secp256k1', group_key: notAPoint }).success).toBe(false);

    // Another group key in the same signed frame: the signature no longer verifies.
    const frame = decodeCanonical(signed) as { b: Uint8Array };
    const body = decodeCanonical(frame.b) as Record<string, unknown>;
    // (Another valid edwards25519 point: the agent's own public key.)
    const swapped = encodeCanonical({ ...frame, b: encodeCanonical({ ...body, group_key: w.agent.signing.publicKey }) });
    expect(manifestSchema.safeParse({ ...old, group_key: w.agent.signing.publicKey }).success).toBe(true);
    expect(() => openManifest(swapped, w.agent.signing.publicKey)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
  });
});

describe('custos details: the group key from the manifest, in both languages', () => {
  it('prints the key and address when the manifest has one, and says to compare after recovery when not', async () => {
    const work = tempDir();
    const vault = join(work, 'vault');
    const created = await run('vault', 'create', '--vault', vault, '--name', 'Carol (group key)', '--json');
    expect(created.code, created.stderr).toBe(0);
    const card = openCustodianCard(new Uint8Array(readFileSync((JSON.parse(created.stdout) as { card: string }).card)));
    const me = { fingerprint: custodianFingerprint(card.body.sign_key, card.body.age_recipient), ageRecipient: card.body.age_recipient };
    const agent = makeAgent();
    writeFileSync(join(work, 'agent.custos'), agent.card);
    expect((await run('pin-agent', '--vault', vault, '--card', join(work, 'agent.custos'), '--confirm-code', agent.code)).code).toBe(0);

    const ecdsa = groupKeyOf(parseKeydata(readFileSync(join(F, 'ecdsa', 'keygen_data_0.json'))));
    const now = Math.floor(Date.now() / 1000) - 60;
    writeFileSync(join(work, 'new.custos'), (await makeSet(agent.id, me, { keyId: 'key-new', curve: 'secp256k1', groupKey: fromHex(ecdsa.compressed), now })).envelope);
    writeFileSync(join(work, 'old.custos'), (await makeSet(agent.id, me, { keyId: 'key-old', now, setId: randomBytes(16) })).envelope);
    const imported = await run('import', '--vault', vault, join(work, 'new.custos'), join(work, 'old.custos'));
    expect(imported.code, imported.stdout + imported.stderr).toBe(0);
    const listed = JSON.parse((await run('list', '--vault', vault, '--json')).stdout) as { shares: { id: string; keyId: string }[] };
    const idOf = (k: string): string => listed.shares.find((s) => s.keyId === k)?.id ?? '';

    const en = await run('details', '--vault', vault, '--id', idOf('key-new').slice(0, 12));
    expect(en.code, en.stderr).toBe(0);
    expect(en.stdout).toContain(`public key (compressed): ${ecdsa.compressed}`);
    expect(en.stdout).toContain(`Ethereum-style address: ${ecdsa.address ?? '?'}`);
    expect(en.stdout).toContain('report it to security');
    const zh = await run('details', '--vault', vault, '--lang', 'zh-CN', '--id', idOf('key-new'));
    expect(zh.stdout).toContain(`公钥（压缩格式）: ${ecdsa.compressed}`);
    expect(zh.stdout).toContain(`以太坊格式地址: ${ecdsa.address ?? '?'}`);
    const json = JSON.parse((await run('details', '--vault', vault, '--id', idOf('key-new'), '--json')).stdout) as { groupKey?: unknown };
    expect(json.groupKey).toEqual({ ...ecdsa });

    const older = await run('details', '--vault', vault, '--id', idOf('key-old'));
    expect(older.code).toBe(0);
    expect(older.stdout).toContain("not in this backup's manifest");
    expect(older.stdout).toContain('after recovery');
    expect((await run('details', '--vault', vault, '--lang', 'zh-CN', '--id', idOf('key-old'))).stdout).toContain('请在恢复后');
    expect((await run('details', '--vault', vault)).code).toBe(2);
  });
});

describe('the drill: the group key the agent signed before equals the one recovered after', () => {
  it('ecdsa, through the real agent and custodian vaults', async () => {
    const work = join(tempDir(), 'drill');
    const file = join(F, 'ecdsa', 'keygen_data_0.json');
    const r = await runDrill({ threshold: 3, total: 5, retain: 2, keydata: file, mode: 'external-only', transport: 'file', work });
    expect(r.failure).toBeUndefined();
    const manifests = readdirSync(join(work, 'envelopes')).filter((f) => f.endsWith('.manifest.cbor'));
    expect(manifests).toHaveLength(1);
    const bytes = new Uint8Array(readFileSync(join(work, 'envelopes', manifests[0] ?? '')));
    const signed = openManifest(bytes, peekMessage(bytes).signer).body;
    expect(manifestGroupKey(signed)).toEqual(r.groupKey);
    expect(r.groupKey).toEqual(groupKeyOf(parseKeydata(readFileSync(file))));
  });
});
