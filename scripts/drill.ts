/**
 * `npm run drill`: an offline recovery drill through the real components (issue "Operations",
 * seed SOP §4.4 恢复演练). In a work folder it creates an agent data directory and custodian vaults,
 * imports the node's tss-lib keydata, backs it up (Shamir, mixed mode), delivers the envelopes to
 * the custodians' vaults, confirms them with signed receipts, loses the node's files, opens a
 * recovery session approved by two approvers with their own keys, has custodians export their
 * shares (as files, or as QR frames read back from PNG images), recovers, regenerates the keydata,
 * self-checks it and compares it with the original byte for byte. It prints a short report and
 * writes it as Markdown and JSON; the agent records the drill (GetBackupStatus shows it).
 *
 * Exit status 0 only when the recovered keydata equals the original and every check passed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Agent } from '../agent/service';
import { createApproverKey, readApproverKey, signApproval } from '../approver/key';
import { assembleQrPngs, UR_TYPES } from '../node/qr-files';
import type { CustodianRole, RecoveryOutcome } from '../agent/api';
import {
  exportForRecovery,
  importEnvelopes,
  installNodeVerifier,
  pinAgent,
  showRecoveryRequest,
  signReceipts,
  Vault,
  verifyAudit as verifyVaultAudit,
  writeReceipts,
  writeRecoveryExport,
} from '../main/services';
import { MIN_LOG_N } from '../main/services/kdf';
import { isCustosError } from '../shared/errors';
import { parseKeydata, selfCheck, writeKeydata, indexOfShareId } from '../shared/keydata';
import { constantTimeEqual, toHex } from '../shared/bytes';
import { fileHash } from '../shared/crypto/hash';
import { checkShamirParams } from '../shared/crypto/shamir';
import { openAgentCard } from '../shared/protocol';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_KEYDATA = join(ROOT, 'test/fixtures/tss-lib/ecdsa/keygen_data_0.json');
const ROLES: readonly CustodianRole[] = ['security-team', 'independent-custodian', 'cold-storage'];

export interface DrillOptions {
  readonly keydata: string;
  readonly peer?: string;
  readonly threshold: number;
  readonly total: number;
  readonly retain: number;
  readonly mode: 'external-only' | 'mixed';
  readonly transport: 'file' | 'qr';
  readonly work?: string;
  readonly keyId?: string;
  /** scrypt work factor of the drill's throwaway vaults (default: the production minimum, 15). */
  readonly vaultLogN?: number;
  readonly log?: (line: string) => void;
}

export interface DrillReport {
  readonly ok: boolean;
  readonly mode: 'external-only' | 'mixed';
  readonly transport: 'file' | 'qr';
  readonly curve: 'secp256k1' | 'ed25519';
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly threshold: number;
  readonly total: number;
  readonly retain: number;
  readonly sharesUsed: { readonly server: number; readonly external: number };
  readonly indexesUsed: readonly number[];
  readonly framesPerExport: readonly number[];
  readonly publicContext: 'stored' | 'peer';
  readonly keydataIdentical: boolean;
  readonly keydataSha256: string;
  readonly selfCheck: Record<string, boolean>;
  readonly auditVerified: boolean;
  readonly audit: { readonly agent: boolean; readonly vaults: readonly boolean[] };
  readonly custodians: readonly { readonly name: string; readonly role: CustodianRole; readonly code: string; readonly shareIndex: number; readonly exported: boolean }[];
  readonly approvals: readonly { readonly name: string; readonly code: string }[];
  readonly deliveries: { readonly delivered: number; readonly confirmed: number };
  readonly timingsMs: Record<string, number>;
  readonly totalMs: number;
  readonly workDir: string;
  readonly startedAt: string;
  readonly failure?: { readonly step: string; readonly code: string; readonly message: string };
}

class StepFailed extends Error {
  constructor(readonly step: string, readonly code: string, message: string) {
    super(message);
  }
}

function codeOf(error: unknown): string {
  if (isCustosError(error)) return error.code;
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return 'INTERNAL';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function runDrill(opts: DrillOptions): Promise<DrillReport> {
  const log = opts.log ?? ((): void => undefined);
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const timings: Record<string, number> = {};
  const work = opts.work === undefined ? mkdtempSync(join(tmpdir(), 'custos-drill-')) : resolve(opts.work);
  if (opts.work !== undefined) {
    if (existsSync(join(work, 'agent'))) throw new StepFailed('setup', 'USAGE', `The work folder ${work} already holds a drill; choose an empty folder.`);
    mkdirSync(work, { recursive: true });
  }
  const dirs = {
    agent: join(work, 'agent'),
    out: join(work, 'envelopes'),
    vaults: join(work, 'vaults'),
    approvers: join(work, 'approvers'),
    receipts: join(work, 'receipts'),
    request: join(work, 'recovery'),
    exports: join(work, 'exports'),
  };
  for (const d of Object.values(dirs)) if (d !== dirs.agent) mkdirSync(d, { recursive: true });

  let step = 'setup';
  const timed = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    step = name;
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round(performance.now() - t0);
    }
  };

  checkShamirParams({ threshold: opts.threshold, total: opts.total }, opts.retain);
  if (opts.mode === 'external-only' && opts.total - opts.retain < opts.threshold) {
    throw new StepFailed('setup', 'INVALID_PARAMETERS', 'External-only recovery needs at least threshold custodians.');
  }
  installNodeVerifier();

  const original = readFileSync(opts.keydata);
  const parsed = parseKeydata(original);
  const compactOriginal = writeKeydata(parsed);
  const partyIndex = indexOfShareId(parsed.Ks, parsed.ShareID);
  const keyId = opts.keyId ?? `drill-${parsed.curve === 'secp256k1' ? 'ecdsa' : 'eddsa'}-${toHex(fileHash(compactOriginal)).slice(0, 8)}`;
  const nodeId = `node-${String(partyIndex)}`;
  const peerBytes = opts.peer === undefined ? undefined : readFileSync(opts.peer);
  const passphrase = `drill ${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const logN = opts.vaultLogN ?? MIN_LOG_N;

  const custodianCount = opts.total - opts.retain;
  const custodians: { name: string; role: CustodianRole; vault: Vault; code: string; fingerprint: string; shareIndex: number; exported: boolean }[] = [];
  const approvals: { name: string; code: string }[] = [];
  let agent: Agent | undefined;
  let outcome: RecoveryOutcome | undefined;
  let setId = '';
  let framesPerExport: number[] = [];
  let delivered = 0;
  let confirmed = 0;
  let recovered: Uint8Array | undefined;
  let failure: DrillReport['failure'];
  let agentAudit = false;
  let vaultAudits: boolean[] = [];

  try {
    agent = await timed('agentInit', async () => {
      await Agent.init(dirs.agent, { name: 'drill agent', operator: 'drill' });
      return Agent.open(dirs.agent, { operator: 'drill' });
    });
    const a = agent;
    const agentCard = a.card;
    const agentCode = openAgentCard(agentCard).code;
    log(`agent ready (fingerprint code ${agentCode})`);

    await timed('custodianVaults', async () => {
      for (let i = 0; i < custodianCount; i++) {
        const role = ROLES[i % ROLES.length] ?? 'security-team';
        const name = `Drill custodian ${String(i + 1)} (${role})`;
        const vault = await Vault.create(join(dirs.vaults, `custodian-${String(i + 1)}`), { name, passphrase }, { kdfLogN: logN });
        const record = await a.addCustodian(vault.card(), name, role, { operator: 'drill' });
        await pinAgent(vault, agentCard, agentCode);
        custodians.push({ name, role, vault, code: record.code, fingerprint: record.fingerprint, shareIndex: 0, exported: false });
      }
    });
    log(`${String(custodians.length)} custodian vaults created, enrolled, agent pinned`);

    const approverKeys = await timed('approvers', () => {
      const nowS = Math.floor(Date.now() / 1000);
      return ['Drill approver A (security)', 'Drill approver B (business owner)'].map((name, i) => {
        const created = createApproverKey(join(dirs.approvers, `approver-${String(i + 1)}`), name, nowS);
        return created;
      });
    });
    for (const k of approverKeys) await a.addApprover(readFileSync(k.cardFile));

    await timed('importKeydata', () => a.importKeyshare(keyId, nodeId, original));
    log(`keydata imported for ${keyId}/${nodeId} (${parsed.curve})`);

    const backup = await timed('backup', () =>
      a.backup(keyId, nodeId, { threshold: opts.threshold, total: opts.total, retain: opts.retain }, custodians.map((c) => c.fingerprint), dirs.out, { qr: opts.transport === 'qr' }),
    );
    setId = backup.setId;
    log(`backup set ${setId.slice(0, 8)}: ${String(opts.threshold)}-of-${String(opts.total)}, server keeps ${String(backup.retainedIndexes.length)}`);

    await timed('delivery', async () => {
      for (const env of backup.envelopes) {
        const c = custodians.find((x) => x.fingerprint === env.custodian);
        if (c === undefined) throw new StepFailed('delivery', 'INTERNAL', 'An envelope names a custodian the drill did not create.');
        c.shareIndex = env.shareIndex;
        await a.requestShareDelivery({ keyId, nodeId, shareIndex: env.shareIndex });
        delivered++;
        const summary = await importEnvelopes(c.vault, [{ name: basename(env.file), bytes: readFileSync(env.file) }]);
        const r = summary.results[0];
        if (summary.accepted !== 1 || r === undefined) {
          throw new StepFailed('delivery', r?.code ?? 'INTERNAL', `${c.name} refused its envelope: ${r?.detail ?? 'no result'}`);
        }
        const receipts = await signReceipts(c.vault, { ids: 'all', status: 'accepted' });
        await writeReceipts(receipts, join(dirs.receipts, `custodian-${String(custodians.indexOf(c) + 1)}`));
        for (const rc of receipts) {
          const st = await a.confirmShareDelivery(rc.bytes);
          if (st.status === 'confirmed') confirmed++;
        }
      }
    });
    log(`${String(delivered)} envelopes delivered, ${String(confirmed)} confirmed with signed receipts`);

    await timed('loseNodeFiles', () => {
      // The incident: the node's own share and keydata files are gone.
      rmSync(join(dirs.agent, 'keys', keyId), { recursive: true, force: true });
    });

    const session = await timed('openSession', () =>
      a.openSession({ incidentId: `DRILL-${startedAt.slice(0, 10)}`, keyId, nodeId, mode: opts.mode, ttlSeconds: 3600 }),
    );
    const sessionId = session.session.sessionId;
    writeFileSync(join(dirs.request, 'session-details.cbor'), session.detailsCbor);

    await timed('approvals', async () => {
      for (const k of approverKeys) {
        const key = readApproverKey(k.keyFile);
        try {
          const approval = signApproval(key, session.details, Math.floor(Date.now() / 1000));
          writeFileSync(join(dirs.request, `approval-${key.name.replace(/[^A-Za-z0-9]+/g, '-')}.cbor`), approval);
          await a.addApproval(sessionId, approval);
          approvals.push({ name: key.name, code: key.code });
        } finally {
          key.close();
        }
      }
    });
    const requestBytes = await timed('recoveryRequest', () => a.recoveryRequest(sessionId));
    writeFileSync(join(dirs.request, 'recovery-request.cbor'), requestBytes);
    log(`recovery session ${sessionId.slice(0, 8)} (${opts.mode}) approved by ${approvals.map((x) => x.name).join(' and ')}`);

    const needed = opts.mode === 'external-only' ? opts.threshold : opts.threshold - opts.retain;
    const exporters = [...custodians].sort((x, y) => x.shareIndex - y.shareIndex).slice(0, needed);
    const exportFiles = await timed('custodianExports', async () => {
      const written = [];
      for (const c of exporters) {
        const summary = showRecoveryRequest(c.vault, requestBytes);
        const result = await exportForRecovery(c.vault, requestBytes, summary.confirmation);
        const files = await writeRecoveryExport(result, join(dirs.exports, `custodian-${String(custodians.indexOf(c) + 1)}`), opts.transport === 'qr' ? { png: true } : undefined);
        c.exported = true;
        written.push(files);
      }
      return written;
    });

    const exportsBytes = await timed('transport', () =>
      exportFiles.map((f) => {
        if (opts.transport === 'file') return new Uint8Array(readFileSync(f.file));
        // Read the export back from its PNG frames only, as a scanner would.
        const bytes = assembleQrPngs(f.png.map((p) => new Uint8Array(readFileSync(p))), UR_TYPES.export);
        if (!constantTimeEqual(bytes, new Uint8Array(readFileSync(f.file)))) {
          throw new StepFailed('transport', 'FRAME_MISMATCH', 'An export read back from its QR frames differs from the file.');
        }
        return bytes;
      }),
    );
    framesPerExport = opts.transport === 'qr' ? exportFiles.map((f) => f.png.length) : [];

    const submitted = await timed('submitExports', () => a.submitExports(sessionId, exportsBytes));
    if (submitted.refused.length > 0) {
      const first = submitted.refused[0];
      throw new StepFailed('submitExports', first?.code ?? 'INTERNAL', `The agent refused an export: ${first?.message ?? ''}`);
    }
    outcome = await timed('recover', () => a.completeRecovery(sessionId, peerBytes === undefined ? {} : { peerKeydata: peerBytes }));
    recovered = await timed('readBack', () => a.exportKeydata(keyId, nodeId));
  } catch (error) {
    failure = error instanceof StepFailed ? { step: error.step, code: error.code, message: error.message } : { step, code: codeOf(error), message: messageOf(error) };
  }

  const keydataIdentical = recovered !== undefined && constantTimeEqual(recovered, compactOriginal);
  const checks: Record<string, boolean> = {};
  if (recovered !== undefined) {
    try {
      for (const c of selfCheck(parseKeydata(recovered)).checks) checks[c.name] = c.ok;
    } catch (error) {
      checks['parse'] = false;
      failure ??= { step: 'selfCheck', code: codeOf(error), message: messageOf(error) };
    }
  }
  if (agent !== undefined) {
    agentAudit = agent.verifyAudit().ok;
    vaultAudits = custodians.map((c) => verifyVaultAudit(c.vault.state).ok);
  }
  const auditVerified = agentAudit && vaultAudits.every(Boolean);
  const ok =
    failure === undefined &&
    outcome?.success === true &&
    keydataIdentical &&
    Object.keys(checks).length > 0 &&
    Object.values(checks).every(Boolean) &&
    auditVerified;
  const totalMs = Date.now() - started;
  if (agent !== undefined && setId !== '') {
    await agent.recordDrill({
      keyId,
      nodeId,
      mode: opts.mode,
      ok,
      durationMs: totalMs,
      setId,
      note: ok ? `drill passed (${opts.transport})` : `drill failed at ${failure?.step ?? 'verification'}`,
    });
  }
  if (failure === undefined && !ok) {
    failure = { step: 'verify', code: 'SELF_CHECK_FAILED', message: keydataIdentical ? 'A check did not pass.' : 'The recovered keydata differs from the original.' };
  }
  for (const c of custodians) await c.vault.lock();
  agent?.close();

  const report: DrillReport = {
    ok,
    mode: opts.mode,
    transport: opts.transport,
    curve: parsed.curve,
    keyId,
    nodeId,
    setId,
    threshold: opts.threshold,
    total: opts.total,
    retain: opts.retain,
    sharesUsed: outcome?.sharesUsed ?? { server: 0, external: 0 },
    indexesUsed: outcome?.indexesUsed ?? [],
    framesPerExport,
    publicContext: peerBytes === undefined ? 'stored' : 'peer',
    keydataIdentical,
    keydataSha256: outcome?.keydataSha256 ?? '',
    selfCheck: checks,
    auditVerified,
    audit: { agent: agentAudit, vaults: vaultAudits },
    custodians: custodians.map((c) => ({ name: c.name, role: c.role, code: c.code, shareIndex: c.shareIndex, exported: c.exported })),
    approvals,
    deliveries: { delivered, confirmed },
    timingsMs: timings,
    totalMs,
    workDir: work,
    startedAt,
    ...(failure === undefined ? {} : { failure }),
  };
  writeFileSync(join(work, 'drill-report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(work, 'drill-report.md'), renderMarkdown(report));
  return report;
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
    `  keydata identical to the original: ${r.keydataIdentical ? 'yes' : 'NO'}; self-check ${String(checksOk)}/${String(checksAll)}; audit logs verified: ${r.auditVerified ? 'yes' : 'NO'}`,
    `  time ${String(r.totalMs)} ms; artifacts and report in ${r.workDir}`,
  ];
  if (r.failure) lines.push(`  FAILED at ${r.failure.step}: ${r.failure.message} (${r.failure.code})`);
  return lines.join('\n');
}

function renderMarkdown(r: DrillReport): string {
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
    row('public context', r.publicContext),
    row('shares used', `${String(r.sharesUsed.external)} external, ${String(r.sharesUsed.server)} server (indexes ${r.indexesUsed.join(', ')})`),
    row('QR frames per export', r.framesPerExport.join(', ') || '-'),
    row('deliveries', `${String(r.deliveries.delivered)} delivered, ${String(r.deliveries.confirmed)} confirmed`),
    row('keydata identical', r.keydataIdentical ? 'yes' : 'NO'),
    row('keydata SHA-256', r.keydataSha256),
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
    '## Self-check',
    '',
    ...Object.entries(r.selfCheck).map(([k, v]) => `- ${v ? '✔' : '✘'} ${k}`),
    '',
    '## Timings (ms)',
    '',
    ...Object.entries(r.timingsMs).map(([k, v]) => `- ${k}: ${String(v)}`),
    '',
  ].join('\n');
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new StepFailed('setup', 'USAGE', `--${name} must be a whole number; got "${value}".`);
  return n;
}

async function cli(argv: readonly string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        keydata: { type: 'string' },
        peer: { type: 'string' },
        threshold: { type: 'string' },
        total: { type: 'string' },
        retain: { type: 'string' },
        mode: { type: 'string' },
        transport: { type: 'string' },
        work: { type: 'string' },
        'key-id': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`drill: ${messageOf(error)} (see --help)`);
    return 2;
  }
  if (values.help === true) {
    console.log(`Usage: npm run drill -- [options]
  --keydata FILE     tss-lib keydata of the node under drill (default: bundled ECDSA fixture)
  --peer FILE        another party's keydata of the same key, used only as the public context
  --threshold T      Shamir threshold (default 3)
  --total N          Shamir total (default 5)
  --retain R         shares the server keeps (default 2)
  --mode M           external-only (default, the SOP's drill) or mixed
  --transport T      file (default) or qr: exports travel as PNG QR frames and are read back
  --work DIR         keep every artifact there (default: a new temporary folder)
  --json             print the report as one JSON object`);
    return 0;
  }
  const mode = values.mode ?? 'external-only';
  const transport = values.transport ?? 'file';
  if (mode !== 'external-only' && mode !== 'mixed') {
    console.error('drill: --mode must be external-only or mixed.');
    return 2;
  }
  if (transport !== 'file' && transport !== 'qr') {
    console.error('drill: --transport must be file or qr.');
    return 2;
  }
  try {
    const report = await runDrill({
      keydata: values.keydata ?? DEFAULT_KEYDATA,
      ...(values.peer === undefined ? {} : { peer: values.peer }),
      threshold: positiveInt(values.threshold, 'threshold', 3),
      total: positiveInt(values.total, 'total', 5),
      retain: positiveInt(values.retain, 'retain', 2),
      mode,
      transport,
      ...(values.work === undefined ? {} : { work: values.work }),
      ...(values['key-id'] === undefined ? {} : { keyId: values['key-id'] }),
      log: values.json === true ? undefined : (line: string): void => { console.error(`  · ${line}`); },
    });
    console.log(values.json === true ? JSON.stringify(report) : renderText(report));
    return report.ok ? 0 : 1;
  } catch (error) {
    const code = error instanceof StepFailed ? error.code : codeOf(error);
    console.error(`drill: ${messageOf(error)} (${code})`);
    return 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void cli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
