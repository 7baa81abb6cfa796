/**
 * (A little over 500 lines: the drill is one script that reads top to bottom as the SOP's steps;
 * its report rendering is in ./drill-report.ts and the cluster drill in ./drill-cluster.ts.)
 *
 * `npm run drill`: an offline recovery drill through the real components (issue "Operations",
 * seed SOP §4.4 恢复演练). In a work folder it creates an agent data directory and custodian vaults,
 * imports the node's tss-lib keydata, backs it up (Shamir, mixed mode), delivers the envelopes to
 * the custodians' vaults, confirms them with signed receipts, loses the node's files, opens a
 * recovery session approved by two approvers with their own keys, has custodians export their
 * shares (as files, or as QR frames read back from PNG images), recovers, regenerates the keydata,
 * self-checks it and compares it with the original: byte for byte with the file given when that is
 * in tss-lib's compact json.Marshal form, else with its content written in that encoding, and the
 * report says which (issue 11 §4). It prints a short report and writes it as Markdown and JSON; the
 * agent records the drill (GetBackupStatus shows it). `--out FILE` also writes the regenerated
 * keydata in plaintext (mode 0600, never over a file) for loading into a test node.
 *
 * Exit status 0 only when the recovered keydata equals the original and every check passed.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from '../agent/service';
import { DRILL_KEK_OPTIONS, drillKek, type DrillKekValues } from '../agent/kek/drill';
import { APPROVER_KDF, createApproverKey, readApproverKey, signApproval } from '../approver/key';
import { assembleQrPngs, UR_TYPES } from '../node/qr-files';
import type { CustodianRole, RecoveryOutcome } from '../agent/api';
import {
  exportForRecovery,
  importEnvelopes,
  installNodeCrypto,
  pinAgent,
  pinApprover,
  showRecoveryRequest,
  signReceipts,
  Vault,
  verifyAudit as verifyVaultAudit,
  writeReceipts,
  writeRecoveryExport,
} from '../main/services';
import { MIN_LOG_N } from '../main/services/kdf';
import { CodedError } from '../shared/errors';
import { codeOf } from '../agent/errors';
import { usage } from '../node/cli/errors';
import { keydataSentence, renderMarkdown, renderText } from './drill-report';
import { clusterCommand } from './drill-cluster';
import { commandsFor, COMMON_OPTIONS, invokedAs, processIo, runProgram, type CliIo, type Program } from '../node/cli/runner';
import { groupKeyOf, parseKeydata, recoveryChecks, selfCheck, writeKeydata, indexOfShareId, type GroupKey } from '../shared/keydata';
import { constantTimeEqual, toHex } from '../shared/bytes';
import { fileHash } from '../shared/crypto/hash';
import { checkShamirParams } from '../shared/crypto/shamir';
import { openAgentCard, openApproverCard } from '../shared/protocol';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_KEYDATA = join(ROOT, 'test/fixtures/tss-lib/ecdsa/keygen_data_0.json');
const ROLES: readonly CustodianRole[] = ['security-team', 'independent-custodian', 'cold-storage'];

export { keydataSentence, renderText };

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
  /** Write the regenerated keydata here in plaintext (0600, never over a file) when the drill passes. */
  readonly out?: string;
  readonly kek?: DrillKekValues; // --kek file|pkcs11 and the token options (agent/kek/drill.ts)
  readonly log?: (line: string) => void;
}

/**
 * What comparing the regenerated keydata with the original proved: `identical` only when its bytes
 * equal the file given; `same-content` when they equal the original's content written in
 * tss-lib's encoding (the file given was not compact, e.g. indented); else `different`, or
 * `not-recovered`.
 */
export type KeydataMatch = 'identical' | 'same-content' | 'different' | 'not-recovered';

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
  /** The regenerated keydata equals the original in tss-lib's encoding; `keydataMatch` says whether the file's own bytes were compared. */
  readonly keydataIdentical: boolean;
  readonly keydataMatch: KeydataMatch;
  /** The file given: its SHA-256, and whether it already is tss-lib's compact form. */
  readonly original: { readonly sha256: string; readonly compact: boolean };
  /** SHA-256 of the regenerated keydata (tss-lib's compact form). */
  readonly keydataSha256: string;
  /** Where `--out` wrote the regenerated keydata (plaintext). */
  readonly keydataOut?: string;
  /** The recovery checks (shared/keydata/group-key.ts RECOVERY_CHECK_NAMES): the self-check and matchesImported, as the agent reports them. */
  readonly selfCheck: Record<string, boolean>;
  /** The recovered keydata's group public key (compressed; Ethereum address or base58), to compare with what the company knows. */
  readonly groupKey?: GroupKey;
  readonly auditVerified: boolean;
  readonly audit: { readonly agent: boolean; readonly vaults: readonly boolean[] };
  readonly custodians: readonly { readonly name: string; readonly role: CustodianRole; readonly code: string; readonly shareIndex: number; readonly exported: boolean }[];
  readonly approvals: readonly { readonly name: string; readonly code: string }[];
  readonly deliveries: { readonly delivered: number; readonly confirmed: number };
  readonly timingsMs: Record<string, number>;
  readonly totalMs: number;
  readonly workDir: string;
  readonly startedAt: string;
  readonly kek: { readonly provider: 'file' | 'pkcs11'; readonly id: string; readonly description: string }; // the KEK that sealed the agent's files
  readonly failure?: { readonly step: string; readonly code: string; readonly message: string };
}

/** A drill step that failed, with its code (a coded error: the runner prints it as such). */
class StepFailed extends CodedError {
  override readonly name = 'StepFailed';
  constructor(
    readonly step: string,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
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
  installNodeCrypto();

  const outFile = opts.out === undefined ? undefined : resolve(opts.out);
  if (outFile !== undefined && existsSync(outFile)) {
    throw new StepFailed('setup', 'CONFLICT', `${outFile} exists already; --out never replaces a file. Choose a new file name.`);
  }
  const original = readFileSync(opts.keydata);
  const parsed = parseKeydata(original);
  const compactOriginal = writeKeydata(parsed);
  const originalCompact = constantTimeEqual(new Uint8Array(original), compactOriginal);
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
  const kek = drillKek(opts.kek ?? {}, process.env, work);

  try {
    agent = await timed('agentInit', async () => {
      await Agent.init(dirs.agent, { name: 'drill agent', operator: 'drill', kekChoice: kek.choice });
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

    const approverKeys = await timed('approvers', async () => {
      const nowS = Math.floor(Date.now() / 1000);
      const created = [];
      // Passphrase-encrypted key files, as `approver keygen` writes them (at the lowest production work factor).
      for (const [i, name] of ['Drill approver A (security)', 'Drill approver B (business owner)'].entries()) {
        created.push(await createApproverKey(join(dirs.approvers, `approver-${String(i + 1)}`), name, nowS, passphrase, { logN: APPROVER_KDF.min }));
      }
      return created;
    });
    for (const k of approverKeys) await a.addApprover(readFileSync(k.cardFile));
    // Each custodian pins the approvers' cards too (the code is read from the card here, where the
    // drill plays every role; a person compares it with the approver): the review counts their approvals.
    for (const c of custodians) {
      for (const k of approverKeys) {
        const card = readFileSync(k.cardFile);
        await pinApprover(c.vault, card, openApproverCard(card).code);
      }
    }

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
        const key = await readApproverKey(k.keyFile, () => Promise.resolve(passphrase));
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

    // As many exports as the agent's session view says it still needs (the server's shares count in mixed mode).
    const needed = Math.max(0, session.session.threshold - (session.session.serverAvailable?.length ?? 0));
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
  const keydataMatch: KeydataMatch = recovered === undefined ? 'not-recovered' : !keydataIdentical ? 'different' : originalCompact ? 'identical' : 'same-content';
  const checks: Record<string, boolean> = {};
  let groupKey: GroupKey | undefined;
  if (recovered !== undefined) {
    try {
      const parsed = parseKeydata(recovered);
      // The same list the agent reports (and the station shows): self-check, then matchesImported.
      for (const c of recoveryChecks(selfCheck(parsed).checks, keydataIdentical)) checks[c.name] = c.ok;
      groupKey = groupKeyOf(parsed);
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
  let keydataOut: string | undefined;
  if (outFile !== undefined && ok && recovered !== undefined) {
    writeFileSync(outFile, recovered, { mode: 0o600, flag: 'wx' });
    keydataOut = outFile;
  }

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
    keydataMatch,
    original: { sha256: toHex(fileHash(new Uint8Array(original))), compact: originalCompact },
    keydataSha256: outcome?.keydataSha256 ?? '',
    ...(keydataOut === undefined ? {} : { keydataOut }),
    selfCheck: checks,
    ...(groupKey === undefined ? {} : { groupKey }),
    auditVerified,
    audit: { agent: agentAudit, vaults: vaultAudits },
    custodians: custodians.map((c) => ({ name: c.name, role: c.role, code: c.code, shareIndex: c.shareIndex, exported: c.exported })),
    approvals,
    deliveries: { delivered, confirmed },
    timingsMs: timings,
    totalMs,
    workDir: work,
    startedAt,
    kek: { provider: kek.choice.provider, id: agent?.kekId ?? '', description: kek.description },
    ...(failure === undefined ? {} : { failure }),
  };
  writeFileSync(join(work, 'drill-report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(work, 'drill-report.md'), renderMarkdown(report));
  return report;
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw usage(`--${name} must be a whole number; got "${value}".`);
  return n;
}

const command = commandsFor(COMMON_OPTIONS);

const drill = command(
  {
    keydata: { type: 'string' },
    peer: { type: 'string' },
    threshold: { type: 'string' },
    total: { type: 'string' },
    retain: { type: 'string' },
    mode: { type: 'string' },
    transport: { type: 'string' },
    work: { type: 'string' },
    'key-id': { type: 'string' },
    out: { type: 'string' },
    cluster: { type: 'string' },
    ...DRILL_KEK_OPTIONS,
  },
  {
    name: 'drill',
    usage: '[--cluster DIR] [--keydata FILE] [--peer FILE] [--threshold 3 --total 5 --retain 2] [--mode external-only|mixed] [--transport file|qr] [--work DIR] [--key-id K] [--out FILE] [--kek file|pkcs11 [--pkcs11-module PATH --token-label L --key-label K --pin-file F]]',
    summary: 'an offline recovery drill through the real agent and custodian services',
    help: [
      '  --keydata FILE     tss-lib keydata of the node under drill (default: bundled ECDSA fixture)',
      "  --peer FILE        another party's keydata of the same key, used only as the public context",
      '  --threshold T      Shamir threshold (default 3)',
      '  --total N          Shamir total (default 5)',
      '  --retain R         shares the server keeps (default 2)',
      "  --mode M           external-only (default, the SOP's drill) or mixed",
      '  --transport T      file (default) or qr: exports travel as PNG QR frames and are read back',
      '  --work DIR         keep every artifact there (default: a new temporary folder)',
      '  --out FILE         write the regenerated keydata there in plaintext (0600, never over a file) for a test node',
      '  --kek P            the agent\'s KEK: file (default) or pkcs11 (alone: a SoftHSM2 token made in the work folder)',
      "  --cluster DIR      drill a whole key: DIR holds every party's keydata; t+1 nodes recovered (scripts/drill-cluster.ts)",
      '  --json             print the report as one JSON object',
    ].join('\n'),
    run: async (ctx) => {
      const { values } = ctx;
      if (values.cluster !== undefined) return clusterCommand(values.cluster, values, ctx, runDrill);
      const mode = values.mode ?? 'external-only';
      const transport = values.transport ?? 'file';
      if (mode !== 'external-only' && mode !== 'mixed') throw usage('--mode must be external-only or mixed.');
      if (transport !== 'file' && transport !== 'qr') throw usage('--transport must be file or qr.');
      if (values.kek !== undefined && values.kek !== 'file' && values.kek !== 'pkcs11') throw usage(`The KEK provider is "file" or "pkcs11"; got "${values.kek}".`);
      if (values.out !== undefined && existsSync(resolve(values.out))) throw usage(`${resolve(values.out)} exists already; --out never replaces a file. Choose a new file name.`);
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
        ...(values.out === undefined ? {} : { out: values.out }),
        kek: values,
        ...(values.json === true ? {} : { log: (line: string): void => {
          ctx.progress(`  · ${line}`);
        } }),
      });
      if (report.keydataOut !== undefined) {
        ctx.io.stderr(`WARNING: ${report.keydataOut} holds the node's secret keydata in plaintext (mode 0600). Load it into a test node, then delete it.
`);
      } else if (values.out !== undefined) {
        ctx.io.stderr(`The drill did not pass, so nothing was written to ${resolve(values.out)}.
`);
      }
      return { data: { ...report }, lines: [renderText(report)], exit: report.ok ? 0 : 1 };
    },
  },
);

/** `npm run drill -- [options]`: one command, on the same runner as the agent and custodian CLIs. */
export const DRILL_PROGRAM: Program = {
  invocation: 'npm run drill --',
  bin: 'custos-drill',
  title: 'Custos recovery drill',
  globals: COMMON_OPTIONS,
  groups: [{ name: 'drill', summary: 'an offline recovery drill', commands: [drill] }],
  defaultCommand: 'drill',
};

export function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return runProgram(DRILL_PROGRAM, argv, io);
}

if (invokedAs(/scripts[\\/]drill\.[cm]?[jt]s$/)) {
  process.exitCode = await main(process.argv.slice(2));
}
