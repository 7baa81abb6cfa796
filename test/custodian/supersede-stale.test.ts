/**
 * The custodian's side of a stale set (issue 11 §2): a supersede notice with `reason: "reshared"`
 * (a tss-lib resharing replaced the node's keydata) is applied like a rotation's, and the result,
 * the share's history and the audit entry say the old set is stale; a rotation's notice says
 * nothing of the kind.
 */
import { describe, expect, it } from 'vitest';
import { fileHash } from '../../shared/crypto/hash';
import { makeSupersede } from '../../shared/protocol';
import { importEnvelope } from '../../main/services/inbox';
import { applySupersede } from '../../main/services/supersede';
import { auditEntrySchema } from '../../shared/audit/chain';
import { createVault, makeAgent, makeSet, meOf, NOW, pinned, supersedeNotice, testClock } from './helpers';

const DAY = 86_400;


describe('a supersede notice that says the old set is stale', () => {
  it('is applied, and the result, history and audit say stale; a rotation does not', async () => {
    const clock = testClock();
    const v = await createVault({ clock: clock.fn });
    const agent = makeAgent();
    await pinned(v, agent);
    const e1 = await makeSet(agent.id, meOf(v), { epoch: 1 });
    const e2 = await makeSet(agent.id, meOf(v), { epoch: 2 });
    const e3 = await makeSet(agent.id, meOf(v), { epoch: 3 });
    await importEnvelope(v, e1.envelope);
    const rotation = await applySupersede(v, supersedeNotice(agent.id, meOf(v), e1, e2, NOW + 10 * DAY));
    expect(rotation).toMatchObject({ oldEpoch: 1, newEpoch: 2, stale: false, alreadyApplied: false });
    expect((await importEnvelope(v, e2.envelope)).outcome).toBe('accepted');

    const resharedNotice = makeSupersede(
      {
        key_id: e2.manifest.key_id,
        node_id: e2.manifest.node_id,
        old_set_id: e2.setId,
        old_epoch: 2,
        new_set_id: e3.setId,
        new_epoch: 3,
        new_manifest_hash: fileHash(e3.manifestBytes),
        recipient: meOf(v).fingerprint,
        destroy_after: NOW + 10 * DAY,
        created_at: NOW,
        reason: 'reshared',
      },
      agent.id.signing,
    );
    const reshared = await applySupersede(v, resharedNotice);
    expect(reshared).toMatchObject({ oldEpoch: 2, newEpoch: 3, stale: true, alreadyApplied: false });
    expect(reshared.affected).toHaveLength(1);
    expect((await applySupersede(v, resharedNotice)).stale).toBe(true);

    const history = (epoch: number): string | undefined => v.state.shares.find((s) => s.epoch === epoch)?.history.find((h) => h.event === 'superseded')?.detail;
    // Facts, not a sentence (the window says them in the reader's language, renderer/src/lib/details.ts).
    expect(JSON.parse(history(1) ?? '{}')).not.toHaveProperty('reason');
    expect(JSON.parse(history(2) ?? '{}')).toMatchObject({ newEpoch: 3, reason: 'reshared' });

    const fields = v.state.audit.entries.map((e) => auditEntrySchema.parse(e).fields).filter((f) => f.event === 'rotate');
    const details = fields.map((f) => f.detail ?? '').filter((d) => d.startsWith('superseded by set'));
    expect(details).toHaveLength(2);
    expect(details[0]).not.toMatch(/stale/);
    expect(details[1]).toMatch(/; stale: reshared$/);
  });
});
