// Issue 12: "Answer and sign" shows the items, the agent and the expiry before it signs. The review
// checks the challenge as the answer will (pinned agent, addressed to me, not expired) and signs and
// records nothing; the answer signs only the challenge reviewed; the CLI shows the review and signs
// only with --confirm.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { importEnvelopes } from '../../main/services/inbox';
import { answerChallenge, reviewChallenge } from '../../main/services/inventory';
import { softDelete } from '../../main/services/deletion';
import { main } from '../../main/cli';
import { challenge, codeOf, createVault, makeAgent, makeSet, meOf, NOW, PASSPHRASE, pinned, tempDir } from '../custodian/helpers';

describe('inventory review before signing', () => {
  it('lists what is asked, by which agent and until when, signs nothing, and the answer signs only that challenge', async () => {
    const v = await createVault();
    const agent = makeAgent('agent prod-eu-1');
    await pinned(v, agent);
    const held = await makeSet(agent.id, meOf(v), { keyId: 'held' });
    const deleted = await makeSet(agent.id, meOf(v), { keyId: 'deleted' });
    const never = await makeSet(agent.id, meOf(v), { keyId: 'never' });
    await importEnvelopes(v, [{ bytes: held.envelope }, { bytes: deleted.envelope }]);
    await softDelete(v, toHex(fileHash(deleted.envelope)));
    const ch = challenge(agent.id, meOf(v), [held, deleted, never]);
    const auditBefore = v.state.audit.entries.length;

    const r = reviewChallenge(v, ch.bytes);
    expect(r.agent).toEqual({ name: 'agent prod-eu-1', code: agent.code });
    expect(r).toMatchObject({ createdAt: NOW, notAfter: NOW + 86_400, held: 2, challengeHash: toHex(fileHash(ch.bytes)) });
    expect(r.items.map((i) => [i.keyId, i.local])).toEqual([
      ['held', 'held'],
      ['deleted', 'deleted'],
      ['never', 'not-held'],
    ]);
    expect(v.state.audit.entries.length).toBe(auditBefore);

    // Another challenge than the one reviewed is refused before anything is signed.
    const other = challenge(agent.id, meOf(v), [held]);
    expect(await codeOf(() => answerChallenge(v, other.bytes, r.challengeHash))).toBe('SESSION_MISMATCH');
    expect(v.state.audit.entries.length).toBe(auditBefore);
    const a = await answerChallenge(v, ch.bytes, r.challengeHash);
    expect(a.items.map((i) => i.answer)).toEqual(['held', 'held', 'missing']);

    // Expired or for someone else: refused at the review already.
    expect(await codeOf(() => reviewChallenge(v, challenge(agent.id, meOf(v), [held], [], NOW - 200_000).bytes))).toBe('EXPIRED');
    const stranger = makeAgent('not pinned');
    expect(await codeOf(() => reviewChallenge(v, challenge(stranger.id, meOf(v), [held]).bytes))).toBe('UNTRUSTED_SIGNER');
  });

  it('the CLI prints the review and signs only with --confirm', async () => {
    const work = tempDir();
    const vault = join(work, 'vault');
    const run = async (...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      let stdout = '';
      let stderr = '';
      const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { CUSTOS_PASSPHRASE: PASSPHRASE, CUSTOS_INSECURE_SCRYPT_LOGN: '10' } });
      return { code, stdout, stderr };
    };
    expect((await run('vault', 'create', '--vault', vault, '--name', 'Carol (inventory)')).code).toBe(0);
    const { Vault } = await import('../../main/services/vault');
    const v = await Vault.open(vault);
    await v.unlock(PASSPHRASE);
    const agent = makeAgent('agent prod-eu-1');
    const now = Math.floor(Date.now() / 1000);
    await pinned(v, agent);
    const s = await makeSet(agent.id, meOf(v), { keyId: 'key-treasury', now: now - 60 });
    await importEnvelopes(v, [{ bytes: s.envelope }]);
    await v.lock();
    const file = join(work, 'challenge.custos');
    writeFileSync(file, challenge(agent.id, meOf(v), [s], [], now).bytes);
    const out = join(work, 'attestation.custos');

    const shown = await run('inventory', 'answer', '--vault', vault, '--challenge', file, '--out', out);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain('CONFIRMATION_REQUIRED');
    expect(shown.stderr).toContain('asked by the pinned agent: agent prod-eu-1, comparison code ' + agent.code);
    expect(shown.stderr).toMatch(/expires \d{4}-\d\d-\d\dT/);
    expect(shown.stderr).toContain('key-treasury/node-1');
    expect(existsSync(out)).toBe(false);
    const zh = await run('inventory', 'answer', '--vault', vault, '--lang', 'zh-CN', '--challenge', file, '--out', out);
    expect(zh.stderr).toContain('发起方（已固定的代理）：agent prod-eu-1');

    const signed = await run('inventory', 'answer', '--vault', vault, '--challenge', file, '--out', out, '--confirm');
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain('held    key-treasury/node-1 share');
    expect(existsSync(out)).toBe(true);
  });
});
