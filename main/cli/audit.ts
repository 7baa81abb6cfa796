/** `audit verify | export`: the vault's hash-chained audit log (custodian CLI). */
import { resolve } from 'node:path';
import { utf8 } from '../../shared/bytes';
import { writeFileAtomic } from '../../node/fs-atomic';
import type { Group } from '../../node/cli/runner';
import { exportAuditJsonl, verifyAudit } from '../services/audit';
import { command, language, need, openUnlocked } from './common';
import { t } from './i18n';
import type { ChainVerdict } from '../../shared/audit/chain';
import type { Language } from '../services/messages';

/** The verdict of `audit verify` as a line in `lang`; why the first bad entry fails comes from the catalog, not the code word. */
export function auditVerdictLine(lang: Language, verdict: ChainVerdict, head: string | undefined): string {
  if (verdict.ok) return t(lang, 'audit.ok', { n: verdict.entries, head: head ?? '-' });
  const bad = verdict.firstBad;
  return t(lang, 'audit.bad', { seq: bad === undefined ? '?' : String(bad.seq), reason: t(lang, `audit.reason.${bad?.reason ?? 'malformed'}`) });
}

const verify = command(
  {},
  {
    name: 'audit verify',
    usage: '--vault DIR',
    summary: 'checks the whole chain (exit 3 if it does not verify)',
    run: async (ctx) => {
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const verdict = verifyAudit(v.state);
      return {
        data: { verdict, head: v.state.audit.head },
        lines: [auditVerdictLine(lang, verdict, v.state.audit.head?.hash)],
        exit: verdict.ok ? 0 : 3,
      };
    },
  },
);

const exportCmd = command(
  { out: { type: 'string' } },
  {
    name: 'audit export',
    usage: '--vault DIR --out FILE',
    summary: 'the log as JSON lines with its head',
    run: async (ctx) => {
      const out = resolve(need(ctx.values.out, 'out'));
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const e = exportAuditJsonl(v.state);
      await writeFileAtomic(out, utf8(e.jsonl), { mode: 0o600 });
      return { data: { file: out, head: e.head, verdict: e.verdict }, lines: [t(lang, 'auditExport.done', { n: e.verdict.entries, file: out, head: e.head?.hash ?? '-', seq: String(e.head?.seq ?? '-') })] };
    },
  },
);

export const auditGroup: Group = { name: 'audit', summary: 'the hash-chained audit log', commands: [verify, exportCmd] };
