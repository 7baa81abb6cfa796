/**
 * What the main process recorded, in the reader's language: a share's history lines, the "about"
 * column of the audit log and a recovery request's warnings.
 *
 * The main process stays language-neutral: new history lines of deletions and supersede notices
 * carry their facts as a small JSON object (main/services/deletion.ts, supersede.ts), never a
 * sentence with Unix seconds. Everything else was, and in every existing vault still is, an English
 * sentence of a known shape (the audit log can never be rewritten: it is hash-chained). Each known
 * shape is matched here and said again through the catalogs, times through `Intl`; a line of an
 * unknown shape is shown as it is, marked English (`english: true`), never dropped.
 */
import { z } from 'zod';
import { catalogs, type StringKey } from '../i18n';
import type { I18n } from '../ui/i18n-context';

/** A line to show: the words, and whether they are main's English as recorded (not translated). */
export interface Said {
  readonly text: string;
  readonly english: boolean;
}

const said = (text: string): Said => ({ text, english: false });
const asRecorded = (text: string): Said => ({ text, english: true });

const has = (key: string): key is StringKey => Object.hasOwn(catalogs.en, key);
/** The catalog's word for a code (`reason_EXPIRED`, `status_confirmed`), else the code itself. */
function word(i18n: I18n, prefix: string, code: string): string {
  const key = `${prefix}${code}`;
  return has(key) ? i18n.t(key) : code;
}

// ---- structured history details (JSON written by main) --------------------------------------------

const seconds = z.number().int().min(0);
const deletedDetail = z.strictObject({ purgeAfter: seconds, reason: z.string().max(500).optional(), destroyAfterReached: z.literal(true).optional() });
const rollbackDetail = z.strictObject({ restored: z.string().max(32) });
const supersededDetail = z.strictObject({ newSetId: z.string().regex(/^[0-9a-f]{1,64}$/), newEpoch: z.number().int().min(1), destroyAfter: seconds, reason: z.literal('reshared').optional() });

function json(detail: string): unknown {
  if (!detail.startsWith('{')) return undefined;
  try {
    return JSON.parse(detail) as unknown;
  } catch {
    return undefined;
  }
}

const short = (hex: string): string => hex.slice(0, 8);

function deleted(i18n: I18n, purgeAfter: number, reason: string | undefined): Said {
  const until = i18n.t('detail_deletedUntil', { date: i18n.date(purgeAfter) });
  return said(reason === undefined || reason === '' ? until : `${until}${i18n.t('listSeparator')}${i18n.t('detail_reason', { reason })}`);
}
/** `stale`: the notice said a resharing replaced the node's keydata, so the old set is stale (docs/protocol.md §4.8). */
const superseded = (i18n: I18n, set: string, epoch: number, destroyAfter: number, stale = false): Said =>
  said(`${i18n.t('detail_supersededBy', { set: short(set), epoch, date: i18n.date(destroyAfter) })}${stale ? `${i18n.t('listSeparator')}${i18n.t('detail_staleReshared')}` : ''}`);

/** One history line's detail (after the event's name), or null when it has none. */
export function historyDetail(i18n: I18n, event: string, detail: string | undefined): Said | null {
  if (detail === undefined || detail === '') return null;
  const data = json(detail);
  if (data !== undefined) {
    const d = event === 'deleted' ? deletedDetail.safeParse(data) : undefined;
    if (d?.success === true) return deleted(i18n, d.data.purgeAfter, d.data.destroyAfterReached === true ? i18n.t('detail_destroyAfterReached') : d.data.reason);
    const r = event === 'rollback' ? rollbackDetail.safeParse(data) : undefined;
    if (r?.success === true) return said(i18n.t('detail_restoredTo', { status: word(i18n, 'status_', r.data.restored) }));
    const s = event === 'superseded' ? supersededDetail.safeParse(data) : undefined;
    if (s?.success === true) return superseded(i18n, s.data.newSetId, s.data.newEpoch, s.data.destroyAfter, s.data.reason === 'reshared');
    return asRecorded(detail);
  }
  // The English sentences written before (and by main/services/inbox.ts, recovery.ts, receipts.ts).
  let m: RegExpExecArray | null;
  if (event === 'imported' && (m = /^from (.+)$/s.exec(detail))) return said(i18n.t('detail_from', { name: m[1] ?? '' }));
  if (event === 'exported' && (m = /^incident (.+), session ([0-9a-f]+)$/s.exec(detail))) return said(i18n.t('detail_exportedFor', { incident: m[1] ?? '', session: short(m[2] ?? '') }));
  if (event.startsWith('receipt-') && /^[A-Z_]+$/.test(detail)) return said(word(i18n, 'reason_', detail));
  if (event === 'deleted' && (m = /^soft delete; hard delete from (\d+)(?:; (.*))?$/s.exec(detail))) {
    return deleted(i18n, Number(m[1]), m[2] === 'superseded: destroy_after reached' ? i18n.t('detail_destroyAfterReached') : m[2]);
  }
  if (event === 'rollback' && (m = /^restored to (\w+)$/.exec(detail))) return said(i18n.t('detail_restoredTo', { status: word(i18n, 'status_', m[1] ?? '') }));
  if (event === 'superseded' && (m = /^by set ([0-9a-f]+) epoch (\d+); destroy after (\d+)$/.exec(detail))) return superseded(i18n, m[1] ?? '', Number(m[2]), Number(m[3]));
  return asRecorded(detail);
}

// ---- the audit log's "about" column ---------------------------------------------------------------

export interface AuditFacts {
  readonly key_id?: string | undefined;
  readonly node_id?: string | undefined;
  readonly share_index?: number | undefined;
  readonly target?: string | undefined;
  readonly reason?: string | undefined;
  readonly detail?: string | undefined;
}

/** An audit entry's target in words ("agent Agent prod-eu-1" → 代理 Agent prod-eu-1). */
function target(i18n: I18n, t: string): Said {
  let m: RegExpExecArray | null;
  if (t === 'custodian') return said(i18n.t('target_custodian'));
  if ((m = /^agent (.+)$/s.exec(t))) return said(i18n.t('target_agent', { name: m[1] ?? '' }));
  if ((m = /^challenge ([0-9a-f]+)$/.exec(t))) return said(i18n.t('target_challenge', { id: short(m[1] ?? '') }));
  if ((m = /^incident (.+) session ([0-9a-f]+)$/s.exec(t))) return said(i18n.t('target_session', { incident: m[1] ?? '', session: short(m[2] ?? '') }));
  if ((m = /^incident (.+)$/s.exec(t))) return said(i18n.t('target_incident', { incident: m[1] ?? '' }));
  return asRecorded(t);
}

/** The sentences main's services write into the audit log, by shape. */
const AUDIT_SHAPES: readonly { readonly re: RegExp; readonly say: (i18n: I18n, m: RegExpExecArray) => string }[] = [
  { re: /^soft delete, cooling until (\d+)$/, say: (i, m) => i.t('audit_softDelete', { date: i.date(Number(m[1])) }) },
  { re: /^deletion rolled back; status (\w+)$/, say: (i, m) => i.t('audit_rolledBack', { status: word(i, 'status_', m[1] ?? '') }) },
  { re: /^hard delete: share and envelope removed from the vault$/, say: (i) => i.t('audit_hardDelete') },
  {
    re: /^superseded by set ([0-9a-f]+) epoch (\d+); destroy after (\d+)(; stale: reshared)?$/,
    say: (i, m) => `${i.t('audit_superseded', { set: short(m[1] ?? ''), epoch: Number(m[2]), date: i.date(Number(m[3])) })}${m[4] === undefined ? '' : `${i.t('listSeparator')}${i.t('detail_staleReshared')}`}`,
  },
  {
    re: /^supersede notice recorded \(no share of the old set held\): set ([0-9a-f]+) epoch (\d+) -> set ([0-9a-f]+) epoch (\d+)(; stale: reshared)?$/,
    say: (i, m) =>
      `${i.t('audit_supersedeRecorded', { old: short(m[1] ?? ''), oldEpoch: Number(m[2]), set: short(m[3] ?? ''), epoch: Number(m[4]) })}${m[5] === undefined ? '' : `${i.t('listSeparator')}${i.t('detail_staleReshared')}`}`,
  },
  {
    re: /^attestation: (\d+) held, (\d+) missing( \(damaged shares answered missing\))?$/,
    say: (i, m) => i.t(m[3] === undefined ? 'audit_attestation' : 'audit_attestationDamaged', { held: Number(m[1]), missing: Number(m[2]) }),
  },
  { re: /^(accepted|rejected)$/, say: (i, m) => word(i, 'receipt_', m[1] ?? '') },
  { re: /^(accepted|rejected) \(([A-Z_]+)\)$/, say: (i, m) => `${word(i, 'receipt_', m[1] ?? '')}${i.t('listSeparator')}${word(i, 'reason_', m[2] ?? '')}` },
  {
    re: /^recovery export \(([\w-]+)\), request ([0-9a-f]+)$/,
    say: (i, m) => i.t('audit_recoveryExport', { mode: m[1] === 'mixed' ? i.t('modeMixedShort') : i.t('modeExternalShort'), request: short(m[2] ?? '') }),
  },
  { re: /^verify all: (\d+) ok, (\d+) failed$/, say: (i, m) => i.t('audit_verifyAll', { ok: Number(m[1]), bad: Number(m[2]) }) },
  { re: /^agent card pinned after code comparison \(([0-9 ]+)\)$/, say: (i, m) => i.t('audit_agentPinned', { code: m[1] ?? '' }) },
  { re: /^agent key replaced: ([0-9 ]+) -> ([0-9 ]+)$/, say: (i, m) => i.t('audit_agentReplaced', { old: m[1] ?? '', next: m[2] ?? '' }) },
  { re: /^vault created, scrypt logN (\d+)$/, say: (i, m) => i.t('audit_vaultCreated', { n: Number(m[1]) }) },
  { re: /^passphrase changed$/, say: (i) => i.t('audit_passphraseChanged') },
];

/** An audit entry's facts in words: coordinates, target, reason and detail, in that order. */
export function auditAbout(i18n: I18n, f: AuditFacts): Said[] {
  const out: Said[] = [];
  if (f.key_id !== undefined && f.key_id !== '') out.push(said(f.key_id));
  if (f.node_id !== undefined && f.node_id !== '') out.push(said(f.node_id));
  if (f.share_index !== undefined) out.push(said(`#${String(f.share_index)}`));
  if (f.target !== undefined && f.target !== '') out.push(target(i18n, f.target));
  if (f.reason !== undefined && f.reason !== '') out.push(said(/^[A-Z_]+$/.test(f.reason) ? word(i18n, 'reason_', f.reason) : f.reason));
  if (f.detail !== undefined && f.detail !== '') {
    const shape = AUDIT_SHAPES.map((s) => ({ s, m: s.re.exec(f.detail ?? '') })).find((x) => x.m !== null);
    out.push(shape?.m == null ? asRecorded(f.detail) : said(shape.s.say(i18n, shape.m)));
  }
  return out;
}

// ---- a recovery request's warnings (main/services/recovery.ts) ------------------------------------

/** One warning of a recovery request's summary. */
export function recoveryWarning(i18n: I18n, warning: string): Said {
  if (warning === 'This share belongs to a backup set the agent has superseded.') return said(i18n.t('warnSuperseded'));
  const m = /^This share was already exported for this session \((\d+) time\(s\)\)\.$/.exec(warning);
  if (m) return said(i18n.t('warnExportedBefore', { n: Number(m[1]) }));
  return asRecorded(warning);
}
