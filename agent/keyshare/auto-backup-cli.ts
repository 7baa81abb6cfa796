/**
 * `keyshare auto-backup`: the policy ImportKeyshare (the node's call right after DKG, issue 11 §2)
 * backs a new keydata up with: parameters, one custodian per external share, the output folder.
 * Without options it shows the policy; agent/keyshare/from-node.ts checks and stores it, audited.
 */
import { resolve } from 'node:path';
import { pairs } from '../../node/cli/format';
import { command, custodianFp, integer, op, withAgent, type AgentCliIo } from '../core/cli-common';
import { usage } from '../../node/cli/errors';
import type { Command } from '../../node/cli/runner';

export const autoBackupCmd: Command<AgentCliIo> = command(
  { threshold: { type: 'string' }, total: { type: 'string' }, retain: { type: 'string' }, custodians: { type: 'string' }, out: { type: 'string' } },
  {
    name: 'keyshare auto-backup',
    usage: '[--threshold 3 --total 5 --retain 2 --custodians FP,FP,FP --out DIR]',
    summary: 'the backup policy for keydata the node hands over after DKG (ImportKeyshare); no options: show it',
    run: async (ctx) => {
      const { values } = ctx;
      const setting = values.custodians !== undefined || values.out !== undefined || values.threshold !== undefined || values.total !== undefined || values.retain !== undefined;
      // Numbers are checked before the data directory is opened: a bad value is wrong usage (exit 2) whatever else is wrong.
      const counts = { threshold: integer(values, 'threshold', 1, 255) ?? 3, total: integer(values, 'total', 1, 255) ?? 5, retain: integer(values, 'retain', 0, 255) ?? 2 };
      return withAgent(ctx, async (a) => {
        const imports = a.capabilities.nodeImports;
        if (!setting) {
          const p = imports.policy();
          if (p === undefined) return { data: { policy: null }, lines: ['No auto-backup policy is set: ImportKeyshare refuses keydata until one is.'] };
          return { data: { policy: p }, lines: pairs([['backup', `${String(p.threshold)}-of-${String(p.total)}, server keeps ${String(p.retain)}`], ['custodians', p.custodians.join(', ')], ['envelopes to', p.outDir]]) };
        }
        if (values.custodians === undefined || values.out === undefined) throw usage('Setting the policy needs --custodians and --out (and optionally --threshold, --total, --retain).');
        const custodians = values.custodians.split(',').map((s) => s.trim()).filter((s) => s !== '').map((g) => custodianFp(a, g));
        const p = await imports.configure(
          { ...counts, custodians, outDir: resolve(values.out) },
          op(values),
        );
        return { data: { policy: p }, lines: [`Auto-backup policy set: ${String(p.threshold)}-of-${String(p.total)}, server keeps ${String(p.retain)}, envelopes to ${p.outDir}.`] };
      });
    },
  },
);
