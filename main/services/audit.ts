/**
 * The custodian app's audit log: append-only, hash-chained by the one audit chain of Custos
 * (shared/audit/chain.ts, the agent's too; docs/protocol.md §12), one entry for
 * everything done to the vault (create, pin, import, refusal, receipt, export, inventory,
 * supersede, delete, rollback, purge, verify).
 *
 * Where it lives: inside the sealed vault state (shares.age), with its head (seq and hash of the
 * last entry) kept apart from the entries in the same state. So an entry and the change it records
 * are saved in the same atomic write; nobody without the vault key can read or touch the log; and
 * an edited, removed, reordered or truncated entry is named by `verifyAudit`.
 *
 * For auditors: `exportAuditJsonl` writes one JSON entry per line, and the head separately, so the
 * export can be checked with `verifyAuditJsonl`, with shared/audit/verify.ts `verifyExportedLog` (the
 * verifier of the agent's exports), or any reimplementation of the chain rule.
 */
import { auditEntrySchema, EMPTY_HEAD, nextEntry, stepChain, verifyChain, type AuditEntry, type AuditFields, type ChainHead, type ChainVerdict } from '../../shared/audit/chain';
import { ServiceError } from './errors';
import type { VaultState } from './state';

/** Appends one entry to the state's log (in memory; saved with the state). */
export function appendAudit(state: VaultState, at: number, fields: AuditFields): AuditEntry {
  const entry = nextEntry(state.audit.head, at, fields);
  state.audit.entries.push(entry);
  state.audit.head = { seq: entry.seq, hash: entry.hash };
  return entry;
}

export function verifyAudit(state: VaultState): ChainVerdict {
  return verifyChain(state.audit.entries, state.audit.head ?? undefined);
}

/** How far `listVerdict` has walked each log (the log array itself), and the head there. */
const walked = new WeakMap<readonly unknown[], { readonly length: number; readonly first: unknown; readonly last: unknown; readonly at: ChainHead }>();

/**
 * The verdict a viewer shows beside each page (audit:list): the same rule as `verifyAudit`, walked
 * on from where the last page's walk stopped when the log only grew since (the same array, its first
 * and last walked entries the same objects), so paging a 100,000-entry log does not hash it whole
 * for every page. "Verify log" (`verifyAudit`, audit:verify) always walks the whole log; unlock
 * checks it whole too. A log that shrank or was replaced is walked from the start.
 */
export function listVerdict(state: VaultState): ChainVerdict {
  const entries = state.audit.entries;
  const head = state.audit.head ?? undefined;
  const known = walked.get(entries);
  const resume = known !== undefined && known.length <= entries.length && entries[0] === known.first && entries[known.length - 1] === known.last;
  let at: ChainHead = resume ? known.at : EMPTY_HEAD;
  for (let position = resume ? known.length : 0; position < entries.length; position++) {
    const step = stepChain(at, entries[position]);
    if (!step.ok) {
      walked.delete(entries);
      return verifyChain(entries, head);
    }
    at = step.head;
  }
  walked.set(entries, { length: entries.length, first: entries[0], last: entries.at(-1), at });
  if (head !== undefined && (at.size !== head.seq + 1 || at.hash !== head.hash)) return verifyChain(entries, head);
  return { ok: true, entries: entries.length };
}

/** The entries that parse, for a viewer; a damaged entry shows as `{ raw }`. */
export function listAudit(state: VaultState): ({ entry: AuditEntry } | { raw: unknown })[] {
  return state.audit.entries.map((raw) => {
    const parsed = auditEntrySchema.safeParse(raw);
    return parsed.success ? { entry: parsed.data } : { raw };
  });
}

export interface AuditPageQuery {
  readonly offset: number;
  readonly limit: number;
  readonly newestFirst: boolean;
  /** Words that must each appear (any case) in the entry's sequence number or its text fields. */
  readonly query?: string;
  readonly event?: AuditFields['event'];
}

export interface AuditPage {
  /** A damaged entry (not an entry by the schema) is `{ raw, position }`, its place in the log. */
  readonly entries: ({ entry: AuditEntry } | { raw: unknown; position: number })[];
  readonly total: number;
  readonly matched: number;
}

/** The searchable text of an entry as stored (before the schema: this is only a filter). */
function auditText(raw: unknown): { event: unknown; text: string } | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const e = raw as Record<string, unknown>;
  const fields = e['fields'];
  if (typeof fields !== 'object' || fields === null) return undefined;
  const parts: string[] = [String(e['seq'])];
  for (const v of Object.values(fields as Record<string, unknown>)) if (typeof v === 'string' || typeof v === 'number') parts.push(String(v));
  return { event: (fields as Record<string, unknown>)['event'], text: parts.join('\n').toLowerCase() };
}

/**
 * One page of the log for a viewer, newest first or not, searched and filtered by event; only the
 * page's entries are checked against the schema (a long log is not parsed whole for one page).
 */
export function pageAudit(state: VaultState, q: AuditPageQuery): AuditPage {
  const all = state.audit.entries;
  const n = all.length;
  const words = (q.query ?? '').toLowerCase().split(/\s+/).filter((w) => w !== '');
  const filtered = words.length > 0 || q.event !== undefined;
  const positionAt = (k: number): number => (q.newestFirst ? n - 1 - k : k);
  const shown = (position: number): { entry: AuditEntry } | { raw: unknown; position: number } => {
    const raw = all[position];
    const parsed = auditEntrySchema.safeParse(raw);
    return parsed.success ? { entry: parsed.data } : { raw, position };
  };
  const start = Math.max(0, q.offset);
  if (!filtered) {
    const entries = [];
    for (let k = start; k < Math.min(n, start + q.limit); k++) entries.push(shown(positionAt(k)));
    return { entries, total: n, matched: n };
  }
  const entries: AuditPage['entries'] = [];
  let matched = 0;
  for (let k = 0; k < n; k++) {
    const position = positionAt(k);
    const t = auditText(all[position]);
    if (t === undefined) continue;
    if (q.event !== undefined && t.event !== q.event) continue;
    if (!words.every((w) => t.text.includes(w))) continue;
    const s = shown(position);
    if (!('entry' in s)) continue;
    if (matched >= start && entries.length < q.limit) entries.push(s);
    matched++;
  }
  return { entries, total: n, matched };
}

export interface AuditExport {
  /** One entry per line, in order. */
  readonly jsonl: string;
  readonly head: { seq: number; hash: string } | null;
  readonly verdict: ChainVerdict;
}

export function exportAuditJsonl(state: VaultState): AuditExport {
  const jsonl = state.audit.entries.map((e) => JSON.stringify(e)).join('\n') + (state.audit.entries.length > 0 ? '\n' : '');
  return { jsonl, head: state.audit.head, verdict: verifyAudit(state) };
}

/** Verifies an exported log (JSON lines), optionally against a head obtained separately. */
export function verifyAuditJsonl(jsonl: string, head?: { seq: number; hash: string }): ChainVerdict {
  const entries: unknown[] = [];
  for (const [i, line] of jsonl.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line));
    } catch (error) {
      throw new ServiceError('INVALID_STATE', `Line ${String(i + 1)} of the audit export is not JSON.`, { cause: error, details: { line: i + 1 } });
    }
  }
  return verifyChain(entries, head);
}
