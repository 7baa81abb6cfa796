/**
 * The approver's own program: `npm run approver -- <command>` (tsx approver/cli.ts), run on the
 * approver's machine, never the agent's. `keygen` makes the approver's Ed25519 key (0600) and the
 * card ops register (`agent approver add`); `sign` shows a recovery session's or a deletion's
 * details in plain words and, only with --yes, signs them. It needs no agent data directory and
 * imports only shared/ and node/ (approver/key.ts). The runner, --json and exit codes are
 * node/cli/runner.ts's, as in the agent and custodian CLIs.
 *
 * The secret key is read from the file named by --key, checked to be private (0600, not a link,
 * ours), and decrypted with its passphrase (--passphrase-file, CUSTOS_APPROVER_PASSPHRASE or a
 * hidden prompt; never an argument); its content is never printed, logged or put in an error
 * message. `rewrap` encrypts an older unencrypted key file in place.
 */
import { basename, dirname, resolve } from 'node:path';
import { toHex } from '../shared/bytes';
import type { ErrorDetails } from '../shared/errors';
import { existsSync, writeFileAtomicSync } from '../node/fs-atomic';
import { CliError, usage } from '../node/cli/errors';
import { pairs } from '../node/cli/format';
import { readInput } from '../node/cli/inputs';
import { COMMON_OPTIONS, commandsFor, invokedAs, processIo, runProgram, type CliIo, type Program } from '../node/cli/runner';
import { requireConfirmCode } from '../node/cli/confirm-code';
import { readPassphrase } from '../node/cli/passphrase-input';
import { describeRosterChange, prepareRosterChange, readRoster, ROSTER_CHANGE_DAYS, signRosterChange } from './roster-change';
import {
  APPROVER_CARD_FILE,
  APPROVER_KDF,
  APPROVER_KEY_FILE,
  createApproverKey,
  describeDeletion,
  describeSession,
  readApprovalSubject,
  readApproverKey,
  rewrapApproverKey,
  signApproval,
  signDeletionApproval,
  type ApproverKey,
  type PassphrasePrompt,
} from './key';

const GLOBALS = COMMON_OPTIONS;
const command = commandsFor(GLOBALS);

function need(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw usage(`--${name} is required here.`);
  return value;
}

/** The environment variables a passphrase may come from (never the command line). */
export const PASSPHRASE_ENV = 'CUSTOS_APPROVER_PASSPHRASE';
export const NEW_PASSPHRASE_ENV = 'CUSTOS_APPROVER_NEW_PASSPHRASE';
const PASSPHRASE_FILE = { 'passphrase-file': { type: 'string' } } as const;
const KDF_LOG_N = { 'kdf-log-n': { type: 'string' } } as const;

type PassCtx = { readonly values: { readonly 'passphrase-file'?: string | undefined }; readonly io: CliIo };

/** The key file's passphrase: --passphrase-file, CUSTOS_APPROVER_PASSPHRASE, or a hidden prompt. */
const unlockPassphrase = (ctx: PassCtx, keyFile: string): PassphrasePrompt => () =>
  readPassphrase({ file: ctx.values['passphrase-file'], fileOption: '--passphrase-file', envName: PASSPHRASE_ENV, env: ctx.io.env, prompt: `Passphrase of ${basename(keyFile)}: ` });

/** Loads the key; an unencrypted key file from before passphrases loads with a warning. */
async function loadKey(ctx: PassCtx, keyFile: string): Promise<ApproverKey> {
  const key = await readApproverKey(keyFile, unlockPassphrase(ctx, keyFile));
  if (key.legacy) {
    ctx.io.stderr(`warning: ${basename(keyFile)} is not protected by a passphrase (an older format): anyone who copies it can sign as ${key.name}. Encrypt it now: approver rewrap --key ${keyFile}\n`);
  }
  return key;
}

function kdfLogN(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,2}$/.test(value) || Number(value) < APPROVER_KDF.min || Number(value) > APPROVER_KDF.max) {
    throw usage(`--kdf-log-n is the scrypt work factor, a whole number from ${String(APPROVER_KDF.min)} to ${String(APPROVER_KDF.max)} (default ${String(APPROVER_KDF.default)}).`);
  }
  return Number(value);
}

const keygen = command(
  { out: { type: 'string' }, name: { type: 'string' }, ...PASSPHRASE_FILE, ...KDF_LOG_N },
  {
    name: 'keygen',
    usage: '--out DIR --name NAME [--passphrase-file FILE] [--kdf-log-n N]',
    summary: `writes ${APPROVER_KEY_FILE} (0600, secret, encrypted with a passphrase from --passphrase-file, ${PASSPHRASE_ENV} or a prompt: it stays on this machine) and ${APPROVER_CARD_FILE} (for ops: agent approver add)`,
    run: async (ctx) => {
      const out = need(ctx.values.out, 'out');
      const name = need(ctx.values.name, 'name');
      const logN = kdfLogN(ctx.values['kdf-log-n']);
      const pass = await readPassphrase({ file: ctx.values['passphrase-file'], fileOption: '--passphrase-file', envName: PASSPHRASE_ENV, env: ctx.io.env, prompt: `New passphrase for ${APPROVER_KEY_FILE}: `, confirm: true });
      const created = await createApproverKey(out, name, Math.floor(Date.now() / 1000), pass, logN === undefined ? {} : { logN });
      return {
        data: { name: created.name, fingerprint: created.fingerprint, code: created.code, keyFile: created.keyFile, cardFile: created.cardFile },
        lines: [
          `Approver key for "${created.name}" created.`,
          ...pairs([
            ['secret key', `${created.keyFile} (0600, encrypted with your passphrase: keep it on this machine, never send it)`],
            ['card', `${created.cardFile} (give this to ops: approver add --card FILE)`],
            ['code', `${created.code}  (read it out to ops when they register the card)`],
          ]),
        ],
      };
    },
  },
);

const rewrap = command(
  { key: { type: 'string' }, ...PASSPHRASE_FILE, 'new-passphrase-file': { type: 'string' }, ...KDF_LOG_N },
  {
    name: 'rewrap',
    usage: '--key FILE [--passphrase-file FILE] [--new-passphrase-file FILE] [--kdf-log-n N]',
    summary: `encrypts an older unencrypted ${APPROVER_KEY_FILE} in place, or gives an encrypted one a new passphrase (from --new-passphrase-file, ${NEW_PASSPHRASE_ENV} or a prompt); the key and its card stay the same`,
    run: async (ctx) => {
      const keyFile = need(ctx.values.key, 'key');
      const logN = kdfLogN(ctx.values['kdf-log-n']);
      const next = await readPassphrase({
        file: ctx.values['new-passphrase-file'],
        fileOption: '--new-passphrase-file',
        envName: NEW_PASSPHRASE_ENV,
        env: ctx.io.env,
        prompt: `New passphrase for ${basename(keyFile)}: `,
        confirm: true,
      });
      const r = await rewrapApproverKey(keyFile, unlockPassphrase(ctx, keyFile), next, logN === undefined ? {} : { logN });
      return {
        data: { keyFile: r.keyFile, name: r.name, fingerprint: r.fingerprint, code: r.code, wasLegacy: r.wasLegacy },
        lines: [
          r.wasLegacy ? `${r.keyFile} is now encrypted with your passphrase.` : `${r.keyFile} has its new passphrase.`,
          ...pairs([
            ['approver', r.name],
            ['code', `${r.code}  (unchanged: the key is the same, the card ops registered still counts)`],
          ]),
        ],
      };
    },
  },
);

const sign = command(
  { key: { type: 'string' }, session: { type: 'string' }, deletion: { type: 'string' }, out: { type: 'string' }, yes: { type: 'boolean' }, ...PASSPHRASE_FILE },
  {
    name: 'sign',
    usage: '--key FILE (--session FILE | --deletion FILE) --out FILE [--yes] [--passphrase-file FILE]',
    summary: "shows a recovery session's (session open --out) or a deletion's (delete request --out) details; signs them with --yes",
    run: async (ctx) => {
      const { values } = ctx;
      if (values.session !== undefined && values.deletion !== undefined) throw usage('Give --session FILE or --deletion FILE, not both.');
      const detailsFile = values.session ?? values.deletion;
      if (detailsFile === undefined || detailsFile === '') throw usage('--session FILE (a recovery session) or --deletion FILE (a deletion) is required here.');
      const subject = readApprovalSubject(readInput(detailsFile, 'details', 4096));
      const out = need(values.out, 'out');
      const key = await loadKey(ctx, need(values.key, 'key'));
      try {
        const now = Math.floor(Date.now() / 1000);
        const isSession = subject.kind === 'session';
        const described = isSession ? describeSession(subject.details, now) : describeDeletion(subject.details, now);
        const intro = isSession ? 'Recovery session to approve (compare every line with the incident ticket):' : 'Deletion to approve (compare every line with the change ticket):';
        const header = [intro, ...pairs([...described, ['signing as', `${key.name} (code ${key.code})`]])];
        const summary: ErrorDetails =
          subject.kind === 'session'
            ? {
                sessionId: toHex(subject.details.session_id),
                incidentId: subject.details.incident_id,
                ...(subject.details.incident_title === undefined ? {} : { incidentTitle: subject.details.incident_title }),
                keyId: subject.details.key_id,
                nodeId: subject.details.node_id,
                setId: toHex(subject.details.set_id),
                epoch: subject.details.epoch,
                mode: subject.details.mode,
                notAfter: subject.details.not_after,
              }
            : {
                deletionId: toHex(subject.details.deletion_id),
                keyId: subject.details.key_id,
                nodeId: subject.details.node_id,
                setId: toHex(subject.details.set_id),
                epoch: subject.details.epoch,
                shareIndexes: subject.details.share_indexes,
                purpose: subject.details.purpose,
                coolingEndsAt: subject.details.cooling_ends_at,
                notAfter: subject.details.not_after,
              };
        const what = isSession ? 'session' : 'deletion';
        if (values.yes !== true) {
          ctx.io[values.json === true ? 'stderr' : 'stdout'](`${header.join('\n')}\n`);
          throw new CliError('CONFIRMATION_REQUIRED', `Nothing was signed. Review the details above; to approve exactly this ${what}, run again with --yes.`, { details: { kind: what, ...summary } });
        }
        const approval = subject.kind === 'session' ? signApproval(key, subject.details, now) : signDeletionApproval(key, subject.details, now);
        const file = resolve(out);
        if (!existsSync(dirname(file))) throw new CliError('IO_FAILED', `The folder ${dirname(file)} does not exist.`, { details: { file } });
        writeFileAtomicSync(file, approval, { mode: 0o644, noOverwrite: true });
        const next = isSession ? 'session approve --approval FILE' : 'delete approve --approval FILE';
        return {
          data: { approval: file, approver: { name: key.name, fingerprint: key.fingerprint, code: key.code }, [what]: summary },
          lines: [...header, `Signed. Approval written to ${file}; send it to ops (${next}).`],
        };
      } finally {
        key.close();
      }
    },
  },
);

const signRosterChangeCmd = command(
  {
    key: { type: 'string' },
    roster: { type: 'string' },
    'agent-card': { type: 'string' },
    add: { type: 'string' },
    disable: { type: 'string' },
    'confirm-code': { type: 'string' },
    days: { type: 'string' },
    out: { type: 'string' },
    yes: { type: 'boolean' },
    ...PASSPHRASE_FILE,
  },
  {
    name: 'sign-roster-change',
    usage: '--key FILE --roster FILE (--add CARD | --disable FINGERPRINT) --out FILE [--agent-card FILE] [--confirm-code "…"] [--days N] [--yes] [--passphrase-file FILE]',
    summary: "shows a change of the agent's approvers (add a card, or disable one) against the roster ops sent (agent approver roster --out); signs it with --yes",
    run: async (ctx) => {
      const { values } = ctx;
      if ((values.add === undefined) === (values.disable === undefined)) throw usage('Give --add CARD (a new approver\'s card) or --disable FINGERPRINT, one of the two.');
      const days = values.days === undefined ? ROSTER_CHANGE_DAYS.default : /^[0-9]{1,2}$/.test(values.days) ? Number(values.days) : Number.NaN;
      if (!(days >= 1 && days <= ROSTER_CHANGE_DAYS.max)) throw usage(`--days is a whole number from 1 to ${String(ROSTER_CHANGE_DAYS.max)}; got "${values.days ?? ''}".`);
      const rosterBytes = readInput(need(values.roster, 'roster'), 'approver roster', 64 * 1024);
      const agentCard = values['agent-card'] === undefined ? undefined : readInput(values['agent-card'], 'agent card', 4096);
      const roster = readRoster(rosterBytes, agentCard);
      const change = values.add === undefined ? { disable: values.disable ?? '' } : { add: readInput(values.add, 'approver card', 4096) };
      const out = need(values.out, 'out');
      const key = await loadKey(ctx, need(values.key, 'key'));
      try {
        const prepared = prepareRosterChange(roster, key, change);
        const header = ['Approver roster change to approve (compare every line with the change ticket):', ...pairs([...describeRosterChange(prepared), ['signing as', `${key.name} (code ${key.code})`]])];
        const summary: ErrorDetails = { action: prepared.action, target: toHex(prepared.target.fingerprint), targetName: prepared.target.name, rosterVersion: roster.body.version, agentCode: roster.agentCode };
        if (values.yes !== true) {
          ctx.io[values.json === true ? 'stderr' : 'stdout'](`${header.join('\n')}\n`);
          throw new CliError('CONFIRMATION_REQUIRED', 'Nothing was signed. Review the details above; to approve exactly this change, run again with --yes.', { details: summary });
        }
        // Adding: the new approver reads their code out to this approver too, so a card swapped on
        // its way from them to ops is not approved by the quorum either.
        if (prepared.action === 'add') await requireConfirmCode(prepared.targetCode, values['confirm-code'], 'the new approver', 'by their approver program (`approver keygen` printed it)');
        const signed = signRosterChange(key, prepared, Math.floor(Date.now() / 1000), days);
        const file = resolve(out);
        if (!existsSync(dirname(file))) throw new CliError('IO_FAILED', `The folder ${dirname(file)} does not exist.`, { details: { file } });
        writeFileAtomicSync(file, signed, { mode: 0o644, noOverwrite: true });
        const next = prepared.action === 'add' ? 'agent approver add --card CARD --approval FILE --approval FILE' : 'agent approver disable FINGERPRINT --approval FILE --approval FILE';
        return {
          data: { approval: file, approver: { name: key.name, fingerprint: key.fingerprint, code: key.code }, change: summary },
          lines: [...header, `Signed for roster version ${String(roster.body.version)}, valid ${String(days)} days. Written to ${file}; send it to ops (${next}).`],
        };
      } finally {
        key.close();
      }
    },
  },
);

export const APPROVER_PROGRAM: Program = {
  invocation: 'npm run approver --',
  bin: 'custos-approver',
  title: "Custos approver's tool (on the approver's own machine; no agent data directory)",
  globals: GLOBALS,
  groups: [
    { name: 'keygen', summary: 'a new approver key (passphrase-encrypted) and its card', commands: [keygen] },
    { name: 'rewrap', summary: 'encrypt an older key file, or change its passphrase', commands: [rewrap] },
    { name: 'sign', summary: "a recovery session's or a deletion's details, signed after review", commands: [sign] },
    { name: 'sign-roster-change', summary: "adding or disabling an approver, signed after review (two approvers must sign each change)", commands: [signRosterChangeCmd] },
  ],
  footer: `Everywhere: --json (one JSON object on stdout), --debug (stack traces). Exit status: 0 done, 1 refused, 2 usage. The key's passphrase comes from --passphrase-file FILE (0600), ${PASSPHRASE_ENV} or a prompt; never from the command line.`,
  forbidden: [
    { option: 'passphrase', message: `A passphrase is never accepted on the command line (it would show in \`ps\` and shell history). Use --passphrase-file FILE, ${PASSPHRASE_ENV} or the prompt.` },
    { option: 'new-passphrase', message: `A passphrase is never accepted on the command line. Use --new-passphrase-file FILE, ${NEW_PASSPHRASE_ENV} or the prompt.` },
  ],
};

export function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return runProgram(APPROVER_PROGRAM, argv, io);
}

if (invokedAs(/approver[\\/]cli\.[cm]?[jt]s$/)) {
  process.exitCode = await main(process.argv.slice(2));
}
