/**
 * The approver's own program: `npm run approver -- <command>` (tsx approver/cli.ts), run on the
 * approver's machine, never the agent's. `keygen` makes the approver's Ed25519 key (0600) and the
 * card ops register (`agent approver add`); `sign` shows a recovery session's or a deletion's
 * details in plain words and, only with --yes, signs them. It needs no agent data directory and
 * imports only shared/ and node/ (approver/key.ts). The runner, --json and exit codes are
 * node/cli/runner.ts's, as in the agent and custodian CLIs.
 *
 * The secret key is read from the file named by --key, checked to be private (0600, not a link,
 * ours); its content is never printed, logged or put in an error message.
 */
import { dirname, resolve } from 'node:path';
import { toHex } from '../shared/bytes';
import type { ErrorDetails } from '../shared/errors';
import { existsSync, writeFileAtomicSync } from '../node/fs-atomic';
import { CliError, usage } from '../node/cli/errors';
import { pairs } from '../node/cli/format';
import { readInput } from '../node/cli/inputs';
import { COMMON_OPTIONS, commandsFor, invokedAs, processIo, runProgram, type CliIo, type Program } from '../node/cli/runner';
import { requireConfirmCode } from '../node/cli/confirm-code';
import { describeRosterChange, prepareRosterChange, readRoster, ROSTER_CHANGE_DAYS, signRosterChange } from './roster-change';
import { APPROVER_CARD_FILE, APPROVER_KEY_FILE, createApproverKey, describeDeletion, describeSession, readApprovalSubject, readApproverKey, signApproval, signDeletionApproval } from './key';

const GLOBALS = COMMON_OPTIONS;
const command = commandsFor(GLOBALS);

function need(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw usage(`--${name} is required here.`);
  return value;
}

const keygen = command(
  { out: { type: 'string' }, name: { type: 'string' } },
  {
    name: 'keygen',
    usage: '--out DIR --name NAME',
    summary: `writes ${APPROVER_KEY_FILE} (0600, secret: it stays on this machine) and ${APPROVER_CARD_FILE} (for ops: agent approver add)`,
    run: (ctx) => {
      const created = createApproverKey(need(ctx.values.out, 'out'), need(ctx.values.name, 'name'), Math.floor(Date.now() / 1000));
      return {
        data: { name: created.name, fingerprint: created.fingerprint, code: created.code, keyFile: created.keyFile, cardFile: created.cardFile },
        lines: [
          `Approver key for "${created.name}" created.`,
          ...pairs([
            ['secret key', `${created.keyFile} (0600: keep it on this machine, never send it)`],
            ['card', `${created.cardFile} (give this to ops: approver add --card FILE)`],
            ['code', `${created.code}  (read it out to ops when they register the card)`],
          ]),
        ],
      };
    },
  },
);

const sign = command(
  { key: { type: 'string' }, session: { type: 'string' }, deletion: { type: 'string' }, out: { type: 'string' }, yes: { type: 'boolean' } },
  {
    name: 'sign',
    usage: '--key FILE (--session FILE | --deletion FILE) --out FILE [--yes]',
    summary: "shows a recovery session's (session open --out) or a deletion's (delete request --out) details; signs them with --yes",
    run: (ctx) => {
      const { values } = ctx;
      if (values.session !== undefined && values.deletion !== undefined) throw usage('Give --session FILE or --deletion FILE, not both.');
      const detailsFile = values.session ?? values.deletion;
      if (detailsFile === undefined || detailsFile === '') throw usage('--session FILE (a recovery session) or --deletion FILE (a deletion) is required here.');
      const subject = readApprovalSubject(readInput(detailsFile, 'details', 4096));
      const out = need(values.out, 'out');
      const key = readApproverKey(need(values.key, 'key'));
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
  },
  {
    name: 'sign-roster-change',
    usage: '--key FILE --roster FILE (--add CARD | --disable FINGERPRINT) --out FILE [--agent-card FILE] [--confirm-code "…"] [--days N] [--yes]',
    summary: "shows a change of the agent's approvers (add a card, or disable one) against the roster ops sent (agent approver roster --out); signs it with --yes",
    run: async (ctx) => {
      const { values } = ctx;
      if ((values.add === undefined) === (values.disable === undefined)) throw usage('Give --add CARD (a new approver\'s card) or --disable FINGERPRINT, one of the two.');
      const days = values.days === undefined ? ROSTER_CHANGE_DAYS.default : /^[0-9]{1,2}$/.test(values.days) ? Number(values.days) : Number.NaN;
      if (!(days >= 1 && days <= ROSTER_CHANGE_DAYS.max)) throw usage(`--days is a whole number from 1 to ${String(ROSTER_CHANGE_DAYS.max)}.`);
      const rosterBytes = readInput(need(values.roster, 'roster'), 'approver roster', 64 * 1024);
      const agentCard = values['agent-card'] === undefined ? undefined : readInput(values['agent-card'], 'agent card', 4096);
      const roster = readRoster(rosterBytes, agentCard);
      const change = values.add === undefined ? { disable: values.disable ?? '' } : { add: readInput(values.add, 'approver card', 4096) };
      const out = need(values.out, 'out');
      const key = readApproverKey(need(values.key, 'key'));
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
    { name: 'keygen', summary: 'a new approver key and its card', commands: [keygen] },
    { name: 'sign', summary: "a recovery session's or a deletion's details, signed after review", commands: [sign] },
    { name: 'sign-roster-change', summary: "adding or disabling an approver, signed after review (two approvers must sign each change)", commands: [signRosterChangeCmd] },
  ],
  footer: 'Everywhere: --json (one JSON object on stdout), --debug (stack traces). Exit status: 0 done, 1 refused, 2 usage.',
};

export function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return runProgram(APPROVER_PROGRAM, argv, io);
}

if (invokedAs(/approver[\\/]cli\.[cm]?[jt]s$/)) {
  process.exitCode = await main(process.argv.slice(2));
}
