/** `supersede apply`, `delete`, `rollback` and `purge`: shares superseded, deleted with a cooling period, destroyed (custodian CLI). */
import { join } from 'node:path';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { purgeDue, rollbackDelete, softDelete } from '../services/deletion';
import { readSettingsOrDefaults, SETTINGS_FILE } from '../services/settings';
import { applySupersede } from '../services/supersede';
import { command, isoOf, language, openUnlocked, usage, vaultDir, type CustodianCtx } from './common';
import { t } from './i18n';
import { STATUS_LABELS } from '../services/messages';

function oneId(ids: readonly string[] | undefined): string {
  if (ids?.length !== 1 || ids[0] === undefined) throw usage('Give exactly one --envelope-hash HEX.');
  return ids[0];
}

async function coolingDays(ctx: CustodianCtx): Promise<number> {
  const { settings } = await readSettingsOrDefaults(join(vaultDir(ctx), SETTINGS_FILE));
  return settings.deletionCoolingDays;
}

const supersede = command(
  {},
  {
    name: 'supersede apply',
    usage: '--vault DIR',
    args: 'FILE...',
    summary: "the agent's supersede notices: the old set's shares are marked and destroyed later",
    run: async (ctx) => {
      if (ctx.args.length === 0) throw usage('supersede apply --vault DIR FILE...');
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const results = [];
      for (const f of ctx.args) results.push(await applySupersede(v, readInput(f, 'supersede notice')));
      return {
        data: { results },
        lines: results.map(
          (r) =>
            t(lang, 'supersede.applied', { key: r.keyId, node: r.nodeId, old: r.oldSetId.slice(0, 8), oldEpoch: r.oldEpoch, new: r.newSetId.slice(0, 8), newEpoch: r.newEpoch, n: r.affected.length, at: isoOf(r.destroyAfter), already: r.alreadyApplied ? 'yes' : 'no' }),
        ),
      };
    },
  },
);

const del = command(
  { 'envelope-hash': { type: 'string', multiple: true }, reason: { type: 'string' } },
  {
    name: 'delete',
    usage: '--vault DIR --envelope-hash HEX [--reason TEXT]',
    summary: 'deletes a share; it can be rolled back during the cooling period',
    run: async (ctx) => {
      const days = await coolingDays(ctx);
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const s = await softDelete(v, oneId(ctx.values['envelope-hash']), { coolingDays: days, ...(ctx.values.reason === undefined ? {} : { reason: ctx.values.reason }) });
      return { data: { share: s }, lines: [t(lang, 'delete.done', { index: s.shareIndex, key: s.keyId, node: s.nodeId, at: isoOf(s.purgeAfter ?? 0) })] };
    },
  },
);

const rollback = command(
  { 'envelope-hash': { type: 'string', multiple: true } },
  {
    name: 'rollback',
    usage: '--vault DIR --envelope-hash HEX',
    summary: 'undoes a deletion during its cooling period',
    run: async (ctx) => {
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const s = await rollbackDelete(v, oneId(ctx.values['envelope-hash']));
      return { data: { share: s }, lines: [t(lang, 'rollback.done', { index: s.shareIndex, key: s.keyId, node: s.nodeId, status: STATUS_LABELS[s.status][lang] })] };
    },
  },
);

const purge = command(
  {},
  {
    name: 'purge',
    usage: '--vault DIR',
    summary: 'destroys deleted shares whose cooling period is over (and starts it for superseded ones due)',
    run: async (ctx) => {
      const days = await coolingDays(ctx);
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const r = await purgeDue(v, { coolingDays: days });
      return {
        data: { ...r },
        lines: [
          ...r.scheduled.map((s) => `superseded share ${String(s.shareIndex)} of ${s.keyId}/${s.nodeId} reached its destroy time: deleted, cooling period started`),
          ...r.purged.map((s) => `destroyed share ${String(s.shareIndex)} of ${s.keyId}/${s.nodeId} (${s.id})`),
          t(lang, 'purge.total', { purged: r.purged.length, cooling: r.cooling.length }),
        ],
      };
    },
  },
);

export const supersedeGroup: Group = { name: 'supersede', summary: "the agent's supersede notices", commands: [supersede] };
export const deleteGroup: Group = { name: 'delete', summary: 'a share deleted, with a cooling period', commands: [del] };
export const rollbackGroup: Group = { name: 'rollback', summary: 'a deletion undone', commands: [rollback] };
export const purgeGroup: Group = { name: 'purge', summary: 'shares past their cooling period destroyed', commands: [purge] };
