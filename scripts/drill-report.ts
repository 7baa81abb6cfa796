/**
 * The drill's report for a person: the short text `npm run drill` prints and the Markdown it writes
 * next to drill-report.json (scripts/drill.ts runs the drill and builds the report).
 */
import type { DrillReport } from './drill';

/** The group public key in the form a person compares: the compressed point and the address or base58 key. */
export function groupKeySentence(r: DrillReport): string {
  const g = r.groupKey;
  if (g === undefined) return 'group public key: not recovered';
  return `group public key ${g.compressed}${g.address === undefined ? '' : ` (Ethereum address ${g.address})`}${g.base58 === undefined ? '' : ` (base58 ${g.base58})`}`;
}

/** One sentence saying exactly what the keydata comparison proved, with the hashes compared. */
export function keydataSentence(r: DrillReport): string {
  switch (r.keydataMatch) {
    case 'identical':
      return `keydata: identical to the file given, byte for byte (sha256 ${r.original.sha256})`;
    case 'same-content':
      return `keydata: same content as the original, written in tss-lib's encoding (original sha256 ${r.original.sha256}, regenerated sha256 ${r.keydataSha256})`;
    case 'different':
      return `keydata: DIFFERENT from the original (original sha256 ${r.original.sha256}, regenerated sha256 ${r.keydataSha256 || '-'})`;
    case 'not-recovered':
      return 'keydata: NOT recovered';
  }
}

export function renderText(r: DrillReport): string {
  const checksOk = Object.values(r.selfCheck).filter(Boolean).length;
  const checksAll = Object.keys(r.selfCheck).length;
  const lines = [
    `Custos recovery drill: ${r.ok ? 'PASSED' : 'FAILED'}`,
    `  key ${r.keyId} / ${r.nodeId} (${r.curve}), backup ${String(r.threshold)}-of-${String(r.total)}, server keeps ${String(r.retain)}`,
    `  mode ${r.mode}, transport ${r.transport}${r.transport === 'qr' ? ` (${r.framesPerExport.join(', ')} QR frames per export)` : ''}, public context ${r.publicContext}`,
    `  shares used: ${String(r.sharesUsed.external)} external + ${String(r.sharesUsed.server)} server (indexes ${r.indexesUsed.join(', ') || '-'})`,
    `  delivery: ${String(r.deliveries.delivered)} delivered, ${String(r.deliveries.confirmed)} confirmed; approvals: ${r.approvals.map((a) => a.name).join(', ') || '-'}`,
    `  ${keydataSentence(r)}`,
    `  ${groupKeySentence(r)}`,
    `  self-check ${String(checksOk)}/${String(checksAll)}; audit logs verified: ${r.auditVerified ? 'yes' : 'NO'}`,
    `  KEK: ${r.kek.description} (${r.kek.id || '-'})`,
    ...(r.keydataOut === undefined ? [] : [`  regenerated keydata written to ${r.keydataOut} (plaintext, 0600)`]),
    `  time ${String(r.totalMs)} ms; artifacts and report in ${r.workDir}`,
  ];
  if (r.failure) lines.push(`  FAILED at ${r.failure.step}: ${r.failure.message} (${r.failure.code})`);
  return lines.join('\n');
}

export function renderMarkdown(r: DrillReport): string {
  const row = (k: string, v: string): string => `| ${k} | ${v} |`;
  return [
    `# Custos recovery drill — ${r.ok ? 'PASSED' : 'FAILED'}`,
    '',
    `Started ${r.startedAt}, ${String(r.totalMs)} ms. Seed SOP §4.4 (恢复演练).`,
    '',
    '| item | value |',
    '| --- | --- |',
    row('key / node', `${r.keyId} / ${r.nodeId} (${r.curve})`),
    row('backup set', `${r.setId} (${String(r.threshold)}-of-${String(r.total)}, server keeps ${String(r.retain)})`),
    row('mode / transport', `${r.mode} / ${r.transport}`),
    row('KEK', `${r.kek.description} (${r.kek.id || '-'})`),
    row('public context', r.publicContext),
    row('shares used', `${String(r.sharesUsed.external)} external, ${String(r.sharesUsed.server)} server (indexes ${r.indexesUsed.join(', ')})`),
    row('QR frames per export', r.framesPerExport.join(', ') || '-'),
    row('deliveries', `${String(r.deliveries.delivered)} delivered, ${String(r.deliveries.confirmed)} confirmed`),
    row('keydata', keydataSentence(r).replace(/^keydata: /, '')),
    row('original SHA-256', `${r.original.sha256}${r.original.compact ? '' : ' (not tss-lib\'s compact form)'}`),
    row('regenerated keydata SHA-256', r.keydataSha256),
    row('group public key', r.groupKey === undefined ? 'not recovered' : `\`${r.groupKey.compressed}\``),
    ...(r.groupKey?.address === undefined ? [] : [row('Ethereum address', `\`${r.groupKey.address}\``)]),
    ...(r.groupKey?.base58 === undefined ? [] : [row('base58 key', `\`${r.groupKey.base58}\``)]),
    ...(r.keydataOut === undefined ? [] : [row('regenerated keydata written to', `${r.keydataOut} (plaintext, 0600)`)]),
    row('audit logs', `agent ${r.audit.agent ? 'verified' : 'BROKEN'}; vaults ${r.audit.vaults.map((v) => (v ? 'verified' : 'BROKEN')).join(', ')}`),
    ...(r.failure ? [row('failure', `${r.failure.step}: ${r.failure.message} (${r.failure.code})`)] : []),
    '',
    '## Custodians',
    '',
    '| name | role | code | share | exported |',
    '| --- | --- | --- | --- | --- |',
    ...r.custodians.map((c) => `| ${c.name} | ${c.role} | ${c.code} | ${String(c.shareIndex)} | ${c.exported ? 'yes' : 'no'} |`),
    '',
    '## Approvals',
    '',
    ...r.approvals.map((a) => `- ${a.name} (${a.code})`),
    '',
    `## Recovery checks (${String(Object.values(r.selfCheck).filter(Boolean).length)}/${String(Object.keys(r.selfCheck).length)})`,
    '',
    ...Object.entries(r.selfCheck).map(([k, v]) => `- ${v ? '✔' : '✘'} ${k}`),
    '',
    '## Timings (ms)',
    '',
    ...Object.entries(r.timingsMs).map(([k, v]) => `- ${k}: ${String(v)}`),
    '',
  ].join('\n');
}
