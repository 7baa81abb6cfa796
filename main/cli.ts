/**
 * The headless custodian CLI: `npm run custos -- <command>` (tsx main/cli.ts). The same services
 * as the desktop app (main/services/), for scripted drills and automation.
 *
 * Passphrase: from the environment variable CUSTOS_PASSPHRASE or a file descriptor
 * (`--passphrase-fd N`), or typed at a terminal prompt. Never on the command line: it would be
 * visible in `ps` and in shell history. Note: `npm run` and `tsx` pass on only descriptors 0-2
 * (tsx uses 3 for its own IPC), so through `npm run custos` use `--passphrase-fd 0` with the
 * passphrase on standard input; descriptors 3 and up work with `node --import tsx main/cli.ts`.
 *
 * Output: sentences for a person, or one JSON object with `--json`. Exit status: 0 done; 1 refused
 * or failed (a sentence says why, and what to do); 2 wrong usage; 3 done with refusals or failures
 * among the items (import, verify-all, audit verify).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex, utf8 } from '../shared/bytes';
import { CustosError } from '../shared/errors';
import { REJECTION_REASONS, type RejectionReason } from '../shared/protocol/receipt';
import { exportAuditJsonl, verifyAudit } from './services/audit';
import { purgeDue, rollbackDelete, softDelete } from './services/deletion';
import { ServiceError, toPublicError } from './services/errors';
import { importEnvelopes, type InboxItem } from './services/inbox';
import { answerChallenge, writeAttestation } from './services/inventory';
import { TEST_MIN_LOG_N } from './services/kdf';
import { explain, LANGUAGES, STATUS_LABELS, type Explained, type Language } from './services/messages';
import { assembleFrames } from './services/qr-import';
import { framesInText, type FrameSource } from '../shared/qr/assemble';
import { qrTextInPng as readQrPng } from '../node/qr-files';
import { installNodeVerifier } from '../node/ed25519';
import { writeQrFiles } from './services/qr-files';
import { signReceipts, writeReceipts } from './services/receipts';
import { exportForRecovery, showRecoveryRequest, writeRecoveryExport, type RecoverySummary } from './services/recovery';
import { readSettingsOrDefaults, SETTINGS_FILE, updateSettings } from './services/settings';
import { listShares, verifyAll } from './services/shares';
import { SHARE_STATUSES, type ShareStatus } from './services/state';
import { applySupersede } from './services/supersede';
import { applyAgentKeyRotation, pinAgent, previewAgentCard } from './services/trust';
import { Vault, type CreateOptions } from './services/vault';
import { writeFileAtomic } from '../node/fs-atomic';

const USAGE = `Custos custodian CLI

  custos vault create --vault DIR --name NAME
  custos vault info --vault DIR
  custos card --vault DIR --out FILE [--qr]
  custos pin-agent --vault DIR --card FILE [--confirm-code "1234 5678 …"]
  custos rotate-agent --vault DIR --notice FILE
  custos import --vault DIR FILE|FOLDER...      (message files, QR images .png, UR frame text)
  custos list --vault DIR [--key K] [--node N] [--set HEX] [--index I] [--status S]
  custos verify-all --vault DIR
  custos receipt --vault DIR (--envelope-hash HEX ... | --all) --status accepted|rejected [--reason CODE] [--note TEXT] --out DIR [--qr]
  custos recovery show --vault DIR --request FILE
  custos recovery export --vault DIR --request FILE --confirm --out DIR [--qr]
  custos inventory answer --vault DIR --challenge FILE --out FILE
  custos supersede apply --vault DIR FILE...
  custos delete --vault DIR --envelope-hash HEX [--reason TEXT]
  custos rollback --vault DIR --envelope-hash HEX
  custos purge --vault DIR
  custos audit verify --vault DIR
  custos audit export --vault DIR --out FILE
  custos settings show|set --vault DIR [--language en|zh-CN] [--auto-lock-minutes N] [--agent-url URL|none] [--cooling-days N]

Options everywhere: --json (one JSON object on stdout), --lang en|zh-CN, --passphrase-fd N (0 = stdin).
The passphrase comes from CUSTOS_PASSPHRASE, --passphrase-fd N, or a prompt; never from the command line.
--vault defaults to CUSTOS_VAULT. Exit status: 0 done, 1 refused, 2 usage, 3 done with refusals.`;

const OPTIONS = {
  vault: { type: 'string' },
  name: { type: 'string' },
  out: { type: 'string' },
  card: { type: 'string' },
  notice: { type: 'string' },
  'confirm-code': { type: 'string' },
  request: { type: 'string' },
  challenge: { type: 'string' },
  confirm: { type: 'boolean' },
  qr: { type: 'boolean' },
  'envelope-hash': { type: 'string', multiple: true },
  all: { type: 'boolean' },
  status: { type: 'string' },
  reason: { type: 'string' },
  note: { type: 'string' },
  key: { type: 'string' },
  node: { type: 'string' },
  set: { type: 'string' },
  index: { type: 'string' },
  json: { type: 'boolean' },
  lang: { type: 'string' },
  'passphrase-fd': { type: 'string' },
  language: { type: 'string' },
  'auto-lock-minutes': { type: 'string' },
  'agent-url': { type: 'string' },
  'cooling-days': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

interface Outcome {
  /** What --json prints (besides ok: true). */
  readonly data: Record<string, unknown>;
  /** What a person reads. */
  readonly lines: readonly string[];
  readonly exit?: number;
}

const usage = (message: string): ServiceError => new ServiceError('USAGE', message);

function need(values: Values, name: 'vault' | 'name' | 'out' | 'card' | 'notice' | 'request' | 'challenge' | 'status'): string {
  const v = name === 'vault' ? (values.vault ?? process.env['CUSTOS_VAULT']) : values[name];
  if (v === undefined || v === '') throw usage(`--${name} is required here.`);
  return v;
}

function readInput(path: string, what: string): Uint8Array {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw usage(`${path} is not a file.`);
    if (st.size > 4 * 1024 * 1024) throw new ServiceError('IO_FAILED', `${path} is ${String(st.size)} bytes: too large to be a Custos ${what}.`);
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw new ServiceError('IO_FAILED', `The ${what} file ${path} could not be read.`, { cause: error, details: { file: path } });
  }
}

// ---- passphrase ---------------------------------------------------------------------------------

async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw usage('No passphrase: set CUSTOS_PASSPHRASE or pass --passphrase-fd N (never the passphrase itself on the command line).');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolvePromise(text);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(usage('Cancelled.'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

async function passphrase(values: Values, confirmNew = false): Promise<string> {
  const fd = values['passphrase-fd'];
  if (fd !== undefined) {
    if (!/^[0-9]+$/.test(fd) || Number(fd) === 1 || Number(fd) === 2) throw usage('--passphrase-fd takes a file descriptor number: 0 (standard input) or 3 and up.');
    let text: string;
    try {
      text = readFileSync(Number(fd), 'utf8');
    } catch (error) {
      throw new ServiceError('IO_FAILED', `The passphrase could not be read from file descriptor ${fd}.`, { cause: error });
    }
    return text.replace(/\r?\n$/, '');
  }
  const env = process.env['CUSTOS_PASSPHRASE'];
  if (env !== undefined && env !== '') return env;
  const first = await promptHidden(confirmNew ? 'New vault passphrase: ' : 'Vault passphrase: ');
  if (confirmNew && (await promptHidden('Repeat the passphrase: ')) !== first) throw usage('The two passphrases differ.');
  return first;
}

async function openUnlocked(values: Values): Promise<Vault> {
  const vault = await Vault.open(resolve(need(values, 'vault')));
  const pass = await passphrase(values);
  const delay = await vault.unlockDelayMs();
  if (delay > 0) process.stderr.write(`Waiting ${String(Math.ceil(delay / 1000))} s after earlier wrong passphrases…\n`);
  const r = await vault.unlock(pass);
  if (r.recoveredFromPrevious) process.stderr.write('Warning: shares.age could not be read; the previous saved version was used. The next save rewrites it.\n');
  if (!r.auditOk) process.stderr.write('Warning: the audit log does not verify. Run `custos audit verify` and keep the vault folder for investigation.\n');
  return vault;
}

// ---- commands -----------------------------------------------------------------------------------

function summaryLines(s: RecoverySummary): string[] {
  return [
    `Recovery request for incident ${s.incidentId}`,
    `  key ${s.keyId}, node ${s.nodeId}, backup set ${s.setId} (epoch ${String(s.epoch)}), ${String(s.threshold)} of ${String(s.total)}`,
    `  mode: ${s.mode === 'mixed' ? 'mixed (server and custodian shares)' : 'external only (custodian shares only)'}`,
    `  agent: ${s.agent.name} (code ${s.agent.code})`,
    ...s.approvals.map((a) => `  approved by ${a.name} (code ${a.code}) at ${new Date(a.approvedAt * 1000).toISOString()}`),
    `  valid until ${new Date(s.notAfter * 1000).toISOString()}`,
    s.share === null ? '  your share: none held' : `  your share: index ${String(s.share.shareIndex)}, status ${s.share.status}, envelope ${s.share.id}`,
    ...s.warnings.map((w) => `  note: ${w}`),
    ...(s.problem === undefined ? [] : [`  cannot export: ${s.problem.message.en} (${s.problem.code})`]),
  ];
}

async function vaultCreate(values: Values): Promise<Outcome> {
  const dir = resolve(need(values, 'vault'));
  const name = need(values, 'name');
  const options: CreateOptions = {};
  const weak = process.env['CUSTOS_INSECURE_SCRYPT_LOGN'];
  if (weak !== undefined && weak !== '') {
    const logN = Number(weak);
    if (!Number.isInteger(logN) || logN < TEST_MIN_LOG_N) throw usage('CUSTOS_INSECURE_SCRYPT_LOGN must be a whole number.');
    process.stderr.write(`WARNING: CUSTOS_INSECURE_SCRYPT_LOGN=${weak}: the passphrase KDF is deliberately weak. For tests only.\n`);
    Object.assign(options, { kdfLogN: logN, allowWeakKdf: true });
  }
  const pass = await passphrase(values, true);
  const v = await Vault.create(dir, { name, passphrase: pass }, options);
  const card = v.path('card');
  await v.lock();
  return {
    data: { vault: dir, card, code: v.info.code, fingerprint: v.info.fingerprint, name: v.info.name },
    lines: [
      `Created the vault in ${dir}.`,
      `Enrollment card: ${card}`,
      `Fingerprint code (read it out to ops): ${v.info.code}`,
      'Escape hatch: age -d -o key.txt identity.age, then age -d -i key.txt shares.age (see README.txt in the folder).',
    ],
  };
}

async function vaultInfo(values: Values): Promise<Outcome> {
  const v = await Vault.open(resolve(need(values, 'vault')));
  const i = v.info;
  return { data: { ...i }, lines: [`Vault of ${i.name}`, `  fingerprint code ${i.code}`, `  age recipient ${i.ageRecipient}`, `  created ${new Date(i.createdAt * 1000).toISOString()}`] };
}

async function card(values: Values): Promise<Outcome> {
  const out = resolve(need(values, 'out'));
  const v = await openUnlocked(values);
  const bytes = v.card();
  await writeFileAtomic(out, bytes, { mode: 0o644 });
  const qr = values.qr === true ? await writeQrFiles(dirname(out), basename(out).replace(/\.custos$/, ''), 'custodian-card', bytes, { png: true, svg: true }) : undefined;
  const images = qr === undefined ? [] : [...qr.png, ...qr.svg];
  return { data: { card: out, code: v.info.code, qr: images }, lines: [`Enrollment card written to ${out}.`, ...images.map((p) => `QR: ${p}`), `Fingerprint code (read it out to ops): ${v.info.code}`] };
}

async function pinAgentCmd(values: Values): Promise<Outcome> {
  const bytes = readInput(need(values, 'card'), 'agent card');
  const preview = previewAgentCard(bytes);
  const code = values['confirm-code'];
  if (code === undefined) {
    throw new ServiceError(
      'CONFIRMATION_REQUIRED',
      `Agent card of "${preview.name}", comparison code ${preview.code}. Compare this code with ops over a separate channel (phone, in person), then run again with --confirm-code "${preview.code}".`,
      { details: { code: preview.code, name: preview.name } },
    );
  }
  const v = await openUnlocked(values);
  const r = await pinAgent(v, bytes, code);
  return { data: { ...r }, lines: [r.alreadyPinned ? `Agent "${r.name}" was already trusted.` : `Agent "${r.name}" is now trusted (code ${r.code}).`] };
}

async function rotateAgent(values: Values): Promise<Outcome> {
  const bytes = readInput(need(values, 'notice'), 'key replacement notice');
  const v = await openUnlocked(values);
  const r = await applyAgentKeyRotation(v, bytes);
  return { data: { previous: r.previous, next: r.next }, lines: [`The agent key was replaced: ${r.previous.code} → ${r.next.code} ("${r.next.name}").`] };
}

function expandInputs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (error) {
      throw new ServiceError('IO_FAILED', `${p} does not exist or cannot be read.`, { cause: error, details: { file: p } });
    }
    if (st.isDirectory()) {
      for (const f of readdirSync(p).sort()) {
        if (f.startsWith('.')) continue;
        const full = join(p, f);
        if (statSync(full).isFile()) out.push(full);
      }
    } else out.push(p);
  }
  return out;
}

/** Files → inbox items: raw message files as they are; QR images (.png) and UR text frames reassembled. */
function inboxItems(paths: readonly string[]): { items: InboxItem[]; problems: { names: readonly string[]; problem: Explained }[] } {
  const items: InboxItem[] = [];
  const frames: FrameSource[] = [];
  const problems: { names: readonly string[]; problem: Explained }[] = [];
  for (const p of paths) {
    // Envelopes are a few KB; anything this large is not one (the inbox refuses > 1 MiB anyway).
    if (statSync(p).size > 16 * 1024 * 1024) throw new ServiceError('IO_FAILED', `${p} is far too large to be a share envelope; leave it out.`, { details: { file: p } });
    const bytes = new Uint8Array(readFileSync(p));
    if (p.toLowerCase().endsWith('.png')) {
      try {
        const frame = readQrPng(bytes);
        if (frame === null) throw new CustosError('MALFORMED', `No QR code could be read in ${p}.`);
        frames.push({ name: p, frame });
      } catch (error) {
        problems.push({ names: [p], problem: explain(error) });
      }
    } else if (bytes.length >= 3 && /^ur:/i.test(Buffer.from(bytes.subarray(0, 3)).toString('latin1'))) {
      for (const frame of framesInText(Buffer.from(bytes).toString('utf8'))) frames.push({ name: p, frame });
    } else {
      items.push({ name: p, bytes });
    }
  }
  const assembled = assembleFrames(frames);
  for (const m of assembled.messages) items.push({ name: [...new Set(m.names)].join(', '), bytes: m.payload });
  problems.push(...assembled.problems);
  return { items, problems };
}

async function importCmd(values: Values, files: readonly string[], lang: Language): Promise<Outcome> {
  if (files.length === 0) throw usage('Name the envelope files or folders to import (message files, QR images, or UR frame text).');
  const { items, problems } = inboxItems(expandInputs(files));
  const v = await openUnlocked(values);
  const showProgress = process.stderr.isTTY && values.json !== true && items.length > 50;
  const summary = await importEnvelopes(v, items, {
    onProgress: (p) => {
      if (showProgress && (p.done % 100 === 0 || p.done === p.total)) process.stderr.write(`\r${String(p.done)}/${String(p.total)}`);
    },
  });
  if (showProgress) process.stderr.write('\n');
  const lines = summary.results.map((r) => {
    if (r.outcome === 'accepted') return `accepted  ${r.name ?? ''}  ${r.share?.keyId ?? ''}/${r.share?.nodeId ?? ''} share ${String(r.share?.shareIndex ?? '')}  id ${r.id ?? ''}`;
    if (r.outcome === 'applied') return `applied   ${r.name ?? ''}  supersede notice: ${String(r.supersede?.affected.length ?? 0)} share(s) superseded`;
    return `refused   ${r.name ?? ''}  ${r.code ?? ''}: ${r.message?.[lang] ?? ''}`;
  });
  lines.push(...problems.map((p) => `unread    ${p.names.join(', ')}  ${p.problem.code}: ${p.problem.message[lang]}`));
  const refused = summary.refused + problems.length;
  lines.push(`${String(summary.accepted)} accepted, ${String(refused)} refused${summary.applied > 0 ? `, ${String(summary.applied)} notice(s) applied` : ''}.`);
  return { data: { ...summary, unread: problems }, lines, exit: refused > 0 ? 3 : 0 };
}

function statusFilter(s: string | undefined): ShareStatus | undefined {
  if (s === undefined) return undefined;
  if (!(SHARE_STATUSES as readonly string[]).includes(s)) throw usage(`--status must be one of ${SHARE_STATUSES.join(', ')}.`);
  return s as ShareStatus;
}

async function list(values: Values, lang: Language): Promise<Outcome> {
  const v = await openUnlocked(values);
  const index = values.index === undefined ? undefined : Number(values.index);
  if (index !== undefined && (!Number.isInteger(index) || index < 1 || index > 255)) throw usage('--index is a share index 1..255.');
  const status = statusFilter(values.status);
  const shares = listShares(v, {
    ...(values.key === undefined ? {} : { keyId: values.key }),
    ...(values.node === undefined ? {} : { nodeId: values.node }),
    ...(values.set === undefined ? {} : { setId: values.set }),
    ...(index === undefined ? {} : { shareIndex: index }),
    ...(status === undefined ? {} : { status }),
  });
  return {
    data: { shares, refusals: v.state.refusals.map((r) => ({ id: r.id, name: r.name, code: r.code, at: r.at, fields: r.fields, receipts: r.receipts.length })) },
    lines: [
      ...shares.map((s) => `${s.id}  ${s.keyId}/${s.nodeId}  set ${s.setId.slice(0, 8)} epoch ${String(s.epoch)}  share ${String(s.shareIndex)}/${String(s.total)}  ${STATUS_LABELS[s.status][lang]}`),
      `${String(shares.length)} share(s).`,
    ],
  };
}

async function verifyAllCmd(values: Values, lang: Language): Promise<Outcome> {
  const v = await openUnlocked(values);
  const r = await verifyAll(v);
  return {
    data: { ...r },
    lines: [...r.results.filter((x) => !x.ok).map((x) => `FAILED ${x.id}: ${x.problem?.message[lang] ?? ''} (${x.problem?.code ?? ''})`), `${String(r.ok)} share(s) verified, ${String(r.failed)} failed.`],
    exit: r.failed > 0 ? 3 : 0,
  };
}

async function receipt(values: Values): Promise<Outcome> {
  const out = resolve(need(values, 'out'));
  const status = need(values, 'status');
  if (status !== 'accepted' && status !== 'rejected') throw usage('--status is accepted or rejected.');
  const ids = values['envelope-hash'];
  if ((ids === undefined || ids.length === 0) === (values.all !== true)) throw usage('Give either --envelope-hash HEX (one or more) or --all.');
  const reason = values.reason;
  if (reason !== undefined && !(REJECTION_REASONS as readonly string[]).includes(reason)) throw usage(`--reason must be one of ${REJECTION_REASONS.join(', ')}.`);
  const v = await openUnlocked(values);
  const signed = await signReceipts(v, {
    ids: values.all === true ? 'all' : (ids ?? []),
    status,
    ...(reason === undefined ? {} : { reason: reason as RejectionReason }),
    ...(values.note === undefined ? {} : { note: values.note }),
  });
  const written = await writeReceipts(signed, out, values.qr === true ? { png: true, svg: true } : undefined);
  return {
    data: { receipts: signed.map((r, i) => ({ id: r.id, status: r.body.status, reason: r.body.reason, hash: r.hash, file: written[i]?.file, qr: written[i]?.png })) },
    lines: [...written.map((w, i) => `${signed[i]?.body.status ?? ''} receipt for ${signed[i]?.id ?? ''}: ${w.file}`), `${String(signed.length)} receipt(s) written to ${out}.`],
  };
}

async function recovery(values: Values, sub: string | undefined): Promise<Outcome> {
  const request = readInput(need(values, 'request'), 'recovery request');
  if (sub === 'show') {
    const v = await openUnlocked(values);
    const s = showRecoveryRequest(v, request);
    return { data: { summary: s }, lines: [...summaryLines(s), s.exportable ? 'To export, run again as `recovery export ... --confirm --out DIR`.' : ''] };
  }
  if (sub !== 'export') throw usage('recovery show | recovery export');
  const out = resolve(need(values, 'out'));
  const v = await openUnlocked(values);
  const s = showRecoveryRequest(v, request);
  if (values.confirm !== true) {
    throw new ServiceError('CONFIRMATION_REQUIRED', `${summaryLines(s).join('\n')}\nReview these details; to export your share for this request, run again with --confirm.`, {
      details: { requestHash: s.requestHash },
    });
  }
  const result = await exportForRecovery(v, request, s.confirmation);
  const files = await writeRecoveryExport(result, out, values.qr === true ? { png: true, svg: true } : undefined);
  return {
    data: { summary: result.summary, file: files.file, hash: result.hash, qr: { png: files.png, svg: files.svg, frames: files.frames.length } },
    lines: [...summaryLines(result.summary), `Exported share ${String(result.summary.share?.shareIndex ?? '')}: ${files.file}`, ...(files.png.length > 0 ? [`${String(files.png.length)} QR frame(s): ${files.png.join(', ')}`] : [])],
  };
}

async function inventory(values: Values, sub: string | undefined): Promise<Outcome> {
  if (sub !== 'answer') throw usage('inventory answer --challenge FILE --out FILE');
  const challenge = readInput(need(values, 'challenge'), 'inventory challenge');
  const out = resolve(need(values, 'out'));
  const v = await openUnlocked(values);
  const a = await answerChallenge(v, challenge);
  await writeAttestation(a, out);
  return {
    data: { attestation: out, hash: a.hash, held: a.held, missing: a.missing, items: a.items.map((i) => ({ keyId: i.key_id, nodeId: i.node_id, setId: i.setIdHex, epoch: i.epoch, shareIndex: i.share_index, answer: i.answer, local: i.local })) },
    lines: [...a.items.map((i) => `${i.answer.padEnd(7)} ${i.key_id}/${i.node_id} share ${String(i.share_index)}${i.local === 'damaged' ? ' (damaged here!)' : ''}`), `Attestation written to ${out}: ${String(a.held)} held, ${String(a.missing)} missing.`],
  };
}

async function supersede(values: Values, sub: string | undefined, files: readonly string[]): Promise<Outcome> {
  if (sub !== 'apply' || files.length === 0) throw usage('supersede apply --vault DIR FILE...');
  const v = await openUnlocked(values);
  const results = [];
  for (const f of files) results.push(await applySupersede(v, readInput(f, 'supersede notice')));
  return {
    data: { results },
    lines: results.map((r) => `${r.keyId}/${r.nodeId}: set ${r.oldSetId.slice(0, 8)} epoch ${String(r.oldEpoch)} superseded by set ${r.newSetId.slice(0, 8)} epoch ${String(r.newEpoch)}; ${String(r.affected.length)} share(s) marked; destroy after ${new Date(r.destroyAfter * 1000).toISOString()}${r.alreadyApplied ? ' (already applied)' : ''}.`),
  };
}

function oneId(values: Values): string {
  const ids = values['envelope-hash'];
  if (ids?.length !== 1 || ids[0] === undefined) throw usage('Give exactly one --envelope-hash HEX.');
  return ids[0];
}

async function coolingDays(values: Values): Promise<number> {
  const { settings } = await readSettingsOrDefaults(join(resolve(need(values, 'vault')), SETTINGS_FILE));
  return settings.deletionCoolingDays;
}

async function deletion(values: Values, command: string): Promise<Outcome> {
  const days = await coolingDays(values);
  const v = await openUnlocked(values);
  if (command === 'delete') {
    const s = await softDelete(v, oneId(values), { coolingDays: days, ...(values.reason === undefined ? {} : { reason: values.reason }) });
    return { data: { share: s }, lines: [`Share ${String(s.shareIndex)} of ${s.keyId}/${s.nodeId} deleted; it can be rolled back until ${new Date((s.purgeAfter ?? 0) * 1000).toISOString()}, and is destroyed by \`purge\` after that.`] };
  }
  if (command === 'rollback') {
    const s = await rollbackDelete(v, oneId(values));
    return { data: { share: s }, lines: [`Deletion rolled back: share ${String(s.shareIndex)} of ${s.keyId}/${s.nodeId} is ${s.status} again.`] };
  }
  const r = await purgeDue(v, { coolingDays: days });
  return {
    data: { ...r },
    lines: [
      ...r.scheduled.map((s) => `superseded share ${String(s.shareIndex)} of ${s.keyId}/${s.nodeId} reached its destroy time: deleted, cooling period started`),
      ...r.purged.map((s) => `destroyed share ${String(s.shareIndex)} of ${s.keyId}/${s.nodeId} (${s.id})`),
      `${String(r.purged.length)} destroyed, ${String(r.cooling.length)} still in their cooling period.`,
    ],
  };
}

async function audit(values: Values, sub: string | undefined): Promise<Outcome> {
  const v = await openUnlocked(values);
  if (sub === 'verify') {
    const verdict = verifyAudit(v.state);
    return {
      data: { verdict, head: v.state.audit.head },
      lines: [verdict.ok ? `The audit log verifies: ${String(verdict.entries)} entries, head ${v.state.audit.head?.hash ?? '-'}.` : `The audit log does NOT verify: entry ${String(verdict.firstBad?.seq ?? '?')} was ${verdict.firstBad?.reason ?? '?'}.`],
      exit: verdict.ok ? 0 : 3,
    };
  }
  if (sub !== 'export') throw usage('audit verify | audit export --out FILE');
  const out = resolve(need(values, 'out'));
  const e = exportAuditJsonl(v.state);
  await writeFileAtomic(out, utf8(e.jsonl), { mode: 0o600 });
  return { data: { file: out, head: e.head, verdict: e.verdict }, lines: [`${String(e.verdict.entries)} audit entries written to ${out} (JSON lines); head ${e.head?.hash ?? '-'} (seq ${String(e.head?.seq ?? '-')}).`] };
}

async function settings(values: Values, sub: string | undefined): Promise<Outcome> {
  const path = join(resolve(need(values, 'vault')), SETTINGS_FILE);
  if (sub === 'show') {
    const r = await readSettingsOrDefaults(path);
    return { data: { settings: r.settings, ...(r.problem === undefined ? {} : { problem: r.problem.toJSON() }) }, lines: [JSON.stringify(r.settings, null, 2)] };
  }
  if (sub !== 'set') throw usage('settings show | settings set ...');
  const change: Record<string, unknown> = {};
  if (values.language !== undefined) change['language'] = values.language;
  if (values['auto-lock-minutes'] !== undefined) change['autoLockMinutes'] = Number(values['auto-lock-minutes']);
  if (values['agent-url'] !== undefined) change['agentUrl'] = values['agent-url'] === 'none' ? null : values['agent-url'];
  if (values['cooling-days'] !== undefined) change['deletionCoolingDays'] = Number(values['cooling-days']);
  const s = await updateSettings(path, change);
  return { data: { settings: s }, lines: [JSON.stringify(s, null, 2)] };
}

async function run(values: Values, positionals: readonly string[], lang: Language): Promise<Outcome> {
  const [command, sub, ...rest] = positionals;
  switch (command) {
    case 'vault':
      if (sub === 'create') return vaultCreate(values);
      if (sub === 'info') return vaultInfo(values);
      throw usage('vault create | vault info');
    case 'card':
      return card(values);
    case 'pin-agent':
      return pinAgentCmd(values);
    case 'rotate-agent':
      return rotateAgent(values);
    case 'import':
      return importCmd(values, positionals.slice(1), lang);
    case 'list':
      return list(values, lang);
    case 'verify-all':
      return verifyAllCmd(values, lang);
    case 'receipt':
      return receipt(values);
    case 'recovery':
      return recovery(values, sub);
    case 'inventory':
      return inventory(values, sub);
    case 'supersede':
      return supersede(values, sub, rest);
    case 'delete':
    case 'rollback':
    case 'purge':
      return deletion(values, command);
    case 'audit':
      return audit(values, sub);
    case 'settings':
      return settings(values, sub);
    default:
      throw usage(command === undefined ? 'Name a command.' : `Unknown command "${command}".`);
  }
}

/** JSON.stringify that turns byte arrays into hex (never expected in output, but never "[object]"). */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v), 2);
}

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.some((a) => a === '--passphrase' || a.startsWith('--passphrase='))) {
    process.stderr.write('error: a passphrase is never accepted on the command line (it would show in `ps` and shell history). Use CUSTOS_PASSPHRASE or --passphrase-fd N.\n');
    return 2;
  }
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true || positionals.length === 0) {
    process.stdout.write(`${USAGE}\n`);
    return positionals.length === 0 && values.help !== true ? 2 : 0;
  }
  let lang: Language = 'en';
  if (values.lang !== undefined) {
    if (!(LANGUAGES as readonly string[]).includes(values.lang)) {
      process.stderr.write(`error: --lang is one of ${LANGUAGES.join(', ')}.\n`);
      return 2;
    }
    lang = values.lang as Language;
  } else if (values.vault !== undefined || process.env['CUSTOS_VAULT'] !== undefined) {
    const dir = values.vault ?? process.env['CUSTOS_VAULT'] ?? '.';
    lang = (await readSettingsOrDefaults(join(resolve(dir), SETTINGS_FILE)).catch(() => ({ settings: { language: 'en' as const } }))).settings.language;
  }
  installNodeVerifier();
  try {
    const outcome = await run(values, positionals, lang);
    if (values.json === true) process.stdout.write(`${toJson({ ok: true, ...outcome.data })}\n`);
    else process.stdout.write(outcome.lines.filter((l) => l !== '').map((l) => `${l}\n`).join(''));
    return outcome.exit ?? 0;
  } catch (error) {
    const e = explain(error);
    if (e.code === 'INTERNAL') console.error(error);
    const sentence = e.message[lang];
    process.stderr.write(`error: ${e.detail !== undefined && lang === 'en' ? e.detail : sentence} (${e.code})\n`);
    if (lang !== 'en' && e.detail !== undefined) process.stderr.write(`  ${e.detail}\n`);
    else if (e.detail !== undefined && e.detail !== sentence) process.stderr.write(`  ${sentence}\n`);
    if (values.json === true) process.stdout.write(`${toJson({ ok: false, error: { ...toPublicError(error), sentence: e.message } })}\n`);
    return e.code === 'USAGE' ? 2 : 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && /cli\.[cm]?[jt]s$/.test(process.argv[1]);
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
