/**
 * Offline verification of an exported agent audit log, for anyone holding the agent card
 * (compliance, an auditor, a custodian): no agent, no database, no secret. The checks are those of
 * shared/audit/verify.ts, the same the agent runs; this file only reads the files.
 *
 *   npx tsx scripts/verify-audit.ts EXPORT.jsonl --card agent-card.cbor [--sink CHECKPOINTS.jsonl] [--json]
 *
 * EXPORT.jsonl is what `agent audit export --out` wrote (entries and signed checkpoints); --sink adds
 * the checkpoints of the agent's external sink, so a log that was cut and whose checkpoints were
 * removed from the export is still caught. The card tells whose key signs checkpoints (compare its
 * code with the one you pinned). Exit 0 when the log verifies, 3 when it does not, 2 on bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { verifyExportedLog, type AuditVerification } from '../shared/audit/verify';
import { openAgentCard } from '../shared/protocol/identity';

export interface VerifyAuditResult {
  readonly exit: 0 | 2 | 3;
  readonly lines: readonly string[];
  readonly json: { readonly agent?: { fingerprint: string; code: string }; readonly verification?: AuditVerification; readonly error?: string };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function verifyAuditFiles(argv: readonly string[]): VerifyAuditResult {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { card: { type: 'string' }, sink: { type: 'string' }, json: { type: 'boolean' } } });
  } catch (error) {
    return { exit: 2, lines: [error instanceof Error ? error.message : String(error)], json: { error: 'usage' } };
  }
  const [exportFile] = parsed.positionals;
  const cardFile = parsed.values.card;
  if (exportFile === undefined || cardFile === undefined || parsed.positionals.length !== 1) {
    return { exit: 2, lines: ['usage: verify-audit EXPORT.jsonl --card agent-card.cbor [--sink CHECKPOINTS.jsonl] [--json]'], json: { error: 'usage' } };
  }
  let card;
  try {
    card = openAgentCard(new Uint8Array(readFileSync(cardFile)));
  } catch (error) {
    return { exit: 2, lines: [`${cardFile} is not a valid agent card: ${error instanceof Error ? error.message : String(error)}`], json: { error: 'card' } };
  }
  let exported: string;
  let sink: string | undefined;
  try {
    exported = readFileSync(exportFile, 'utf8');
    sink = parsed.values.sink === undefined ? undefined : readFileSync(parsed.values.sink, 'utf8');
  } catch (error) {
    return { exit: 2, lines: [`Cannot read the input: ${error instanceof Error ? error.message : String(error)}`], json: { error: 'io' } };
  }
  const agent = { fingerprint: hex(card.fingerprint), code: card.code };
  const v = verifyExportedLog(exported, { agentKeys: [card.body.sign_key], ...(sink === undefined ? {} : { sink }) });
  const cps = v.checkpoints;
  const lines = v.ok
    ? [
        `The audit log verifies: ${String(v.entries)} entries, head ${v.headHash}.`,
        `Signed by agent ${agent.code}: ${String(cps?.valid ?? 0)} checkpoint(s), the last covering ${String(cps?.lastMatched?.size ?? 0)} entries.`,
      ]
    : [`The audit log does NOT verify: ${v.firstBad?.message ?? 'unknown problem'} (entry ${String(v.firstBad?.seq ?? '?')}, ${v.firstBad?.problem ?? '?'}).`];
  return { exit: v.ok ? 0 : 3, lines, json: { agent, verification: v } };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const r = verifyAuditFiles(argv);
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(r.json)}\n`);
  else (r.exit === 0 ? process.stdout : process.stderr).write(`${r.lines.join('\n')}\n`);
  process.exitCode = r.exit;
}
