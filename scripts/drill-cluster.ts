/**
 * `npm run drill -- --cluster DIR` (issue 11 §3): a drill of one key across its MPC nodes. DIR holds
 * every party's tss-lib keydata of one key (`*.json`, e.g. test/fixtures/tss-lib/ecdsa). The
 * tss-lib threshold t is read from the public keydata (the fewest parties whose BigXj interpolate,
 * Lagrange at 0 over the party ids, to the group key). Then for each node, in its own work folder:
 * its own agent and its own custodians' vaults, a backup, delivery with signed receipts, the
 * node's files lost, and an external-only recovery approved by two approvers (the single drill,
 * scripts/drill.ts, once per node). Finally the proof across nodes, on the regenerated files:
 * each recovered Xi·G equals that node's BigXj, and the t+1 recovered points interpolate to the
 * group public key. The per-node comparison with the original says exactly what was compared
 * (byte identity only with a compact original, else same content in tss-lib's encoding).
 *
 * What "lose everything" means here: the node's share and keydata files are deleted, and no
 * server-held share is used (external-only); each agent's database (its manifests and the public
 * context) stays, as on a separate agent host.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { toHex } from '../shared/bytes';
import { fileHash } from '../shared/crypto/hash';
import { CodedError } from '../shared/errors';
import { indexOfShareId, parseKeydata, type EcPoint, type Keydata } from '../shared/keydata';
import { groupOf, lagrangeAtZero } from '../shared/keydata/curves';
// Types only: scripts/drill.ts imports this file and hands its runDrill in (no import cycle at run time).
import type { DrillOptions, DrillReport } from './drill';
import type { DrillKekValues } from '../agent/kek/drill';

export interface ClusterOptions {
  readonly dir: string;
  readonly work?: string;
  readonly keyId?: string;
  /** Backup parameters of every node (default 3-of-5, server keeps 2). */
  readonly threshold?: number;
  readonly total?: number;
  readonly retain?: number;
  readonly vaultLogN?: number;
  readonly kek?: DrillKekValues;
  readonly log?: (line: string) => void;
}

export interface ClusterNodeReport {
  readonly file: string;
  readonly nodeId: string;
  readonly partyIndex: number;
  readonly shareId: string;
  readonly ok: boolean;
  readonly setId: string;
  readonly sharesUsed: DrillReport['sharesUsed'];
  readonly indexesUsed: readonly number[];
  readonly custodiansUsed: readonly string[];
  readonly keydataMatch: DrillReport['keydataMatch'];
  readonly originalSha256: string;
  readonly regeneratedSha256: string;
  /** Recovered Xi·G equals the node's BigXj. */
  readonly xiMatchesBigXj: boolean;
  readonly totalMs: number;
  readonly workDir: string;
  readonly failure?: DrillReport['failure'];
}

export interface ClusterReport {
  readonly ok: boolean;
  readonly keyId: string;
  readonly curve: Keydata['curve'];
  readonly parties: number;
  readonly filesGiven: number;
  /** tss-lib threshold t: t+1 parties sign. */
  readonly tssThreshold: number;
  readonly groupPublicKeySha256: string;
  readonly recovered: readonly ClusterNodeReport[];
  /** The recovered nodes' Xi·G, Lagrange-interpolated at 0 over their party ids, equal the group key. */
  readonly interpolatesToGroupKey: boolean;
  readonly totalMs: number;
  readonly workDir: string;
}

class ClusterFailed extends CodedError {
  override readonly name = 'ClusterFailed';
}

const groupKeyOf = (k: Keydata): EcPoint => (k.curve === 'secp256k1' ? k.ECDSAPub : k.EDDSAPub);

function point(curve: Keydata['curve'], p: EcPoint): unknown {
  const g = groupOf(curve);
  const q = g.fromCoords(p.Coords[0], p.Coords[1]);
  if (q === null) throw new ClusterFailed('KEYDATA_INVALID', 'A keydata holds a point that is not on its curve.');
  return q;
}

/** Σ λ_j·P_j at 0 over the x-coordinates `xs`. */
function interpolate(curve: Keydata['curve'], xs: readonly bigint[], points: readonly unknown[]): unknown {
  const g = groupOf(curve);
  const lambdas = lagrangeAtZero(xs, g.order);
  return points.reduce<unknown>((acc, p, i) => g.add(acc, g.mulPublic(p, lambdas[i] ?? 0n)), g.zero);
}

/** tss-lib's t from public data: the fewest parties (in Ks order) whose BigXj interpolate to the group key, minus one. */
export function tssThresholdOf(k: Keydata): number {
  const g = groupOf(k.curve);
  const pub = point(k.curve, groupKeyOf(k));
  const pts = k.BigXj.map((p) => point(k.curve, p));
  for (let m = 1; m <= k.Ks.length; m++) {
    if (g.equals(interpolate(k.curve, k.Ks.slice(0, m), pts.slice(0, m)), pub)) return m - 1;
  }
  throw new ClusterFailed('KEYDATA_INVALID', 'No subset of the parties interpolates to the group public key; the keydata is inconsistent.');
}

/** The single drill, scripts/drill.ts's runDrill. */
export type RunDrill = (opts: DrillOptions) => Promise<DrillReport>;

export async function runClusterDrill(opts: ClusterOptions, runDrill: RunDrill): Promise<ClusterReport> {
  const started = performance.now();
  const log = opts.log ?? ((): void => undefined);
  const dir = resolve(opts.dir);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
  if (files.length === 0) throw new ClusterFailed('USAGE', `${dir} holds no keydata (*.json); give the folder with every party's tss-lib keydata of one key.`);
  const parsed = files.map((f) => ({ file: f, k: parseKeydata(new Uint8Array(readFileSync(f))) }));
  const first = parsed[0]?.k;
  if (first === undefined) throw new ClusterFailed('USAGE', 'No keydata.');
  const pubHex = (k: Keydata): string => groupKeyOf(k).Coords.map(String).join(',');
  for (const p of parsed) {
    if (p.k.curve !== first.curve || pubHex(p.k) !== pubHex(first)) throw new ClusterFailed('INVALID_PARAMETERS', `${p.file} is of another key than ${parsed[0]?.file ?? ''}; the folder must hold the parties of one key.`);
  }
  const ids = new Set(parsed.map((p) => p.k.ShareID.toString()));
  if (ids.size !== parsed.length) throw new ClusterFailed('INVALID_PARAMETERS', 'Two files in the folder are the same party.');
  const t = tssThresholdOf(first);
  if (parsed.length < t + 1) throw new ClusterFailed('BELOW_THRESHOLD', `The key needs t+1 = ${String(t + 1)} nodes and the folder holds ${String(parsed.length)}.`);
  const groupKeySha = toHex(fileHash(new TextEncoder().encode(`${first.curve}:${pubHex(first)}`)));
  const keyId = opts.keyId ?? `cluster-${first.curve === 'secp256k1' ? 'ecdsa' : 'eddsa'}-${groupKeySha.slice(0, 8)}`;
  const work = opts.work === undefined ? mkdtempSync(join(tmpdir(), 'custos-cluster-')) : resolve(opts.work);
  mkdirSync(work, { recursive: true });
  log(`key ${keyId}: ${first.curve}, ${String(first.Ks.length)} parties, tss-lib t = ${String(t)}; ${String(parsed.length)} keydata files; recovering ${String(t + 1)} nodes`);

  // t+1 nodes, in party order, each with its own agent and custodians.
  const chosen = parsed.slice(0, t + 1);
  const g = groupOf(first.curve);
  const reports: ClusterNodeReport[] = [];
  const recoveredPoints: unknown[] = [];
  const xs: bigint[] = [];
  for (const { file, k } of chosen) {
    const party = indexOfShareId(k.Ks, k.ShareID);
    const nodeWork = join(work, `node-${String(party)}`);
    const out = join(work, `node-${String(party)}.recovered.json`);
    log(`node-${String(party)}: drill in ${nodeWork}`);
    const r = await runDrill({
      keydata: file,
      threshold: opts.threshold ?? 3,
      total: opts.total ?? 5,
      retain: opts.retain ?? 2,
      mode: 'external-only',
      transport: 'file',
      work: nodeWork,
      keyId,
      out,
      ...(opts.vaultLogN === undefined ? {} : { vaultLogN: opts.vaultLogN }),
      ...(opts.kek === undefined ? {} : { kek: opts.kek }),
    });
    let xiOk = false;
    if (r.keydataOut !== undefined) {
      const rec = parseKeydata(new Uint8Array(readFileSync(r.keydataOut)));
      const own = rec.BigXj[party];
      const xiG = g.mulBase(rec.Xi);
      xiOk = own !== undefined && g.equals(xiG, point(rec.curve, own)) && rec.ShareID === k.ShareID;
      recoveredPoints.push(xiG);
      xs.push(rec.ShareID);
    }
    reports.push({
      file,
      nodeId: r.nodeId,
      partyIndex: party,
      shareId: k.ShareID.toString(),
      ok: r.ok && xiOk,
      setId: r.setId,
      sharesUsed: r.sharesUsed,
      indexesUsed: r.indexesUsed,
      custodiansUsed: r.custodians.filter((c) => c.exported).map((c) => `${c.name} (${c.code}, share ${String(c.shareIndex)})`),
      keydataMatch: r.keydataMatch,
      originalSha256: r.original.sha256,
      regeneratedSha256: r.keydataSha256,
      xiMatchesBigXj: xiOk,
      totalMs: r.totalMs,
      workDir: r.workDir,
      ...(r.failure === undefined ? {} : { failure: r.failure }),
    });
    log(`node-${String(party)}: ${r.ok ? 'recovered' : 'FAILED'} in ${String(r.totalMs)} ms`);
  }
  const interpolates = recoveredPoints.length === t + 1 && g.equals(interpolate(first.curve, xs, recoveredPoints), point(first.curve, groupKeyOf(first)));
  return {
    ok: interpolates && reports.every((r) => r.ok),
    keyId,
    curve: first.curve,
    parties: first.Ks.length,
    filesGiven: parsed.length,
    tssThreshold: t,
    groupPublicKeySha256: groupKeySha,
    recovered: reports,
    interpolatesToGroupKey: interpolates,
    totalMs: Math.round(performance.now() - started),
    workDir: work,
  };
}

const MATCH: Record<DrillReport['keydataMatch'], string> = {
  identical: 'identical to the file given, byte for byte',
  'same-content': "same content as the original, written in tss-lib's encoding",
  different: 'DIFFERENT from the original',
  'not-recovered': 'NOT recovered',
};

export function renderCluster(r: ClusterReport): string {
  const lines = [
    `Custos cluster drill: ${r.ok ? 'PASSED' : 'FAILED'}`,
    `  key ${r.keyId} (${r.curve}), ${String(r.parties)} parties, tss-lib t = ${String(r.tssThreshold)} (t+1 = ${String(r.tssThreshold + 1)} sign), ${String(r.filesGiven)} keydata files given`,
    `  ${String(r.recovered.length)} nodes lost their files and were recovered external-only, each by its own agent and custodians:`,
  ];
  for (const n of r.recovered) {
    lines.push(
      `  - ${n.nodeId} (party ${String(n.partyIndex)}): ${n.ok ? 'recovered' : 'FAILED'} in ${String(n.totalMs)} ms; set ${n.setId.slice(0, 8)}; shares used ${String(n.sharesUsed.external)} external + ${String(n.sharesUsed.server)} server (indexes ${n.indexesUsed.join(', ') || '-'})`,
      `      custodians: ${n.custodiansUsed.join('; ') || '-'}`,
      `      keydata: ${MATCH[n.keydataMatch]} (original sha256 ${n.originalSha256}, regenerated sha256 ${n.regeneratedSha256 || '-'}); Xi·G = BigXj: ${n.xiMatchesBigXj ? 'yes' : 'NO'}`,
      ...(n.failure === undefined ? [] : [`      failure at ${n.failure.step}: ${n.failure.code}: ${n.failure.message}`]),
    );
  }
  lines.push(
    `  group key: the recovered nodes' Xi·G interpolate (Lagrange at 0 over their party ids) to the group public key: ${r.interpolatesToGroupKey ? 'yes' : 'NO'}`,
    `  total ${String(r.totalMs)} ms; artifacts in ${r.workDir} (each node's regenerated keydata there is plaintext, 0600: delete it after use)`,
  );
  return lines.join('\n');
}

/** What `npm run drill -- --cluster DIR` runs (scripts/drill.ts hands its options over). */
export async function clusterCommand(
  dir: string,
  values: DrillKekValues & { readonly work?: string | undefined; readonly 'key-id'?: string | undefined; readonly json?: boolean | undefined },
  ctx: { progress: (line: string) => void },
  runDrill: RunDrill,
): Promise<{ data: Record<string, unknown>; lines: string[]; exit: number }> {
  const r = await runClusterDrill({
    dir,
    ...(values.work === undefined ? {} : { work: values.work }),
    ...(values['key-id'] === undefined ? {} : { keyId: values['key-id'] }),
    kek: values,
    ...(values.json === true ? {} : { log: (line: string): void => { ctx.progress(`  · ${line}`); } }),
  }, runDrill);
  return { data: { ...r }, lines: [renderCluster(r)], exit: r.ok ? 0 : 1 };
}
