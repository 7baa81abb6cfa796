/**
 * `session open | details | approve | request | submit | complete | show | list | cancel`: a
 * recovery session from the incident to the keydata written back (agent CLI). `submit` takes
 * export files and PNG images of their QR frames, mixed, in any order.
 */
import { toHex } from '../../shared/bytes';
import { groupKeyFromEncoding } from '../../shared/keydata/group-key';
import { fileHash } from '../../shared/crypto/hash';
import { isPng } from '../../shared/qr/png';
import { usage } from '../../node/cli/errors';
import { iso, pairs, table } from '../../node/cli/format';
import { expandInputs, readInput } from '../../node/cli/inputs';
import { sortInputs, UR_TYPES, type SortedInputs } from '../../node/qr-files';
import type { Ctx, Group } from '../../node/cli/runner';
import type { RecoveryOutcome, SessionView } from '../api';
import { checkNewFile, command, integer, keyNode, mode, need, op, publicOf, resolveId, short, withAgent, writeNew, type AgentCliIo } from '../core/cli-common';
import type { Agent } from '../service';
import { incidentTitleProblem } from './sessions';

const SESSION_ID = { 'session-id': { type: 'string' } } as const;

function sessionId(values: { readonly 'session-id'?: string | undefined }, agent: Agent): string {
  return resolveId(
    need(values, 'session-id'),
    agent.listSessions().map((s) => s.sessionId),
    'session id',
    32,
  );
}

function sessionLines(s: SessionView): string[] {
  return [
    `Session ${s.sessionId}: ${s.state}`,
    ...pairs([
      ['incident', s.incidentId],
      ...(s.incidentTitle === undefined ? [] : ([['incident title', s.incidentTitle]] as const)),
      ['key / node', `${s.keyId} / ${s.nodeId}`],
      ['mode', s.mode],
      ['backup set', `${s.setId} (epoch ${String(s.epoch)}), threshold ${String(s.threshold)}`],
      ['valid until', iso(s.notAfter)],
      ['approvals', s.approvals.length === 0 ? 'none yet (2 needed)' : s.approvals.map((x) => `${x.name} (${short(x.approver)})`).join(', ')],
      ['request', s.requestIssued === true ? 'issued' : 'not yet issued'],
      ['shares in', `${s.received.length === 0 ? 'none' : s.received.join(', ')}${s.serverAvailable !== undefined && s.serverAvailable.length > 0 ? ` + server ${s.serverAvailable.join(', ')}` : ''}`],
      ['missing', s.missing.length === 0 ? 'none' : s.missing.join(', ')],
    ]),
  ];
}

/** Issue 12: the recovered group public key, to compare with what the company knows. */
function groupKeyPairs(hex: string | undefined): (readonly [string, string])[] {
  if (hex === undefined || hex === '') return [];
  const g = groupKeyFromEncoding(hex.length === 66 ? 'secp256k1' : 'ed25519', hex);
  return [['group public key', g.compressed], ...(g.address === undefined ? [] : [['Ethereum address', g.address] as const]), ...(g.base58 === undefined ? [] : [['base58 key', g.base58] as const])];
}

function outcomeLines(r: RecoveryOutcome): string[] {
  const failed = r.selfCheck.filter((c) => !c.ok);
  return [
    r.success ? (r.written === false ? 'Drill passed: the keydata was rebuilt and checked; nothing was written.' : 'Recovered: the share and keydata were written back and checked.') : 'The recovery did not succeed; nothing was written.',
    ...pairs([
      ['shares used', `${String(r.sharesUsed.server)} server + ${String(r.sharesUsed.external)} external${r.indexesUsed === undefined ? '' : ` (${r.indexesUsed.join(', ')})`}`],
      ['keydata sha256', r.keydataSha256],
      ...groupKeyPairs(r.groupPublicKey),
      ['self-check', failed.length === 0 ? `${String(r.selfCheck.length)} checks passed` : `FAILED: ${failed.map((c) => c.name).join(', ')}`],
      ...(r.contextSource === undefined ? [] : ([['public context', r.contextSource]] as const)),
      ...(r.durationMs === undefined ? [] : ([['took', `${String(r.durationMs)} ms`]] as const)),
    ]),
    ...(r.skipped ?? []).map((s) => `  set aside share ${String(s.shareIndex)}: ${s.message} (${s.code})`),
  ];
}

const open = command(
  { 'key-id': { type: 'string' }, 'node-id': { type: 'string' }, incident: { type: 'string' }, mode: { type: 'string' }, ttl: { type: 'string' }, 'set-id': { type: 'string' }, 'incident-title': { type: 'string' }, out: { type: 'string' } },
  {
    name: 'session open',
    usage: '--incident ID --key-id K --node-id N --mode mixed|external-only [--ttl 86400] [--set-id S] [--incident-title TEXT] --out FILE',
    summary: 'a recovery session for an incident (ID: letters, digits, . _ : -; TEXT: its name in any script, signed too); FILE holds the details two approvers sign',
    run: (ctx) => {
      const { values } = ctx;
      const { keyId, nodeId } = keyNode(values);
      const incidentId = need(values, 'incident');
      const title = values['incident-title'];
      const titleProblem = title === undefined ? undefined : incidentTitleProblem(title);
      // Wrong input, like a bad --mode: exit 2 before the agent is opened (the agent checks again).
      if (titleProblem !== undefined) throw usage(`--incident-title ${titleProblem} (after Unicode NFC and trimming).`);
      const m = mode(values);
      const out = need(values, 'out');
      const ttl = integer(values, 'ttl', 1, 10 * 24 * 3600);
      // Checked before the session exists, so a bad path does not leave an orphan session.
      checkNewFile(out, 'session details');
      return withAgent(ctx, async (a) => {
        const opened = await a.openSession(
          { incidentId, ...(title === undefined ? {} : { incidentTitle: title }), keyId, nodeId, mode: m, ...(ttl === undefined ? {} : { ttlSeconds: ttl }), ...(values['set-id'] === undefined ? {} : { setId: values['set-id'] }) },
          op(values),
        );
        const file = writeNew(out, opened.detailsCbor, 0o644);
        return {
          data: { session: opened.session, detailsFile: file },
          lines: [
            ...sessionLines(opened.session),
            `Session details written to ${file}. Two approvers each run, on their own machine:`,
            `  npm run approver -- sign --key approver.key --session ${file} --out approval.cbor`,
            `then: session approve --session-id ${opened.session.sessionId} --approval FILE (once per approval).`,
          ],
        };
      });
    },
  },
);

const details = command(
  { ...SESSION_ID, out: { type: 'string' } },
  {
    name: 'session details',
    usage: '--session-id S --out FILE',
    summary: '(re)writes the file approvers sign',
    run: (ctx) => {
      const out = need(ctx.values, 'out');
      return withAgent(ctx, (a) => {
        const sid = sessionId(ctx.values, a);
        const file = writeNew(out, a.sessionDetails(sid).detailsCbor, 0o644);
        return { data: { sessionId: sid, detailsFile: file }, lines: [`Session details written to ${file}.`] };
      });
    },
  },
);

const approve = command(
  { ...SESSION_ID, approval: { type: 'string', multiple: true } },
  {
    name: 'session approve',
    usage: '--session-id S --approval FILE [--approval FILE...]',
    args: '[FILE...]',
    summary: "records approvers' signed approvals (exit 3 if some are refused)",
    run: (ctx) => {
      const { values } = ctx;
      const files = [...(values.approval ?? []), ...ctx.args];
      if (files.length === 0) throw usage('session approve --session-id S --approval FILE');
      return withAgent(ctx, async (a) => {
        const sid = sessionId(values, a);
        const refused: { file: string; code: string; message: string }[] = [];
        let view = a.getSession(sid);
        for (const f of files) {
          try {
            view = await a.addApproval(sid, readInput(f, 'approval', 4096), op(values));
          } catch (error) {
            if (files.length === 1) throw error;
            refused.push({ file: f, ...publicOf(error) });
          }
        }
        const need2 = Math.max(0, 2 - view.approvals.length);
        return {
          data: { session: view, refused },
          lines: [
            ...refused.map((r) => `refused ${r.file}: ${r.message} (${r.code})`),
            `Session ${short(view.sessionId)}: ${String(view.approvals.length)} approval(s): ${view.approvals.map((x) => x.name).join(', ')}.`,
            need2 > 0 ? `${String(need2)} more approval(s) needed from different approvers.` : `Approved. Next: session request --session-id ${view.sessionId} --out FILE`,
          ],
          exit: refused.length > 0 ? 3 : 0,
        };
      });
    },
  },
);

const request = command(
  { ...SESSION_ID, out: { type: 'string' } },
  {
    name: 'session request',
    usage: '--session-id S --out FILE',
    summary: 'the signed recovery request for the custodians (after two approvals)',
    run: (ctx) => {
      const out = need(ctx.values, 'out');
      return withAgent(ctx, async (a) => {
        const sid = sessionId(ctx.values, a);
        const bytes = await a.recoveryRequest(sid, op(ctx.values));
        const file = writeNew(out, bytes, 0o644);
        return {
          data: { sessionId: sid, requestFile: file, sha256: toHex(fileHash(bytes)) },
          lines: [`Signed recovery request written to ${file}. Send it to the custodians; each exports their share for it (custos recovery export).`],
        };
      });
    },
  },
);

/**
 * The exports among the inputs (node/qr-files.ts sortInputs): export files as they are, PNG images
 * of QR frames and `…-qr-frames.txt` texts sorted into their messages (frames of two exports never
 * mix), each export once however many ways it came; every file left out is named with why.
 */
function collectExports(ctx: Ctx<unknown, AgentCliIo>, files: readonly string[]): SortedInputs {
  const inputs = files.map((file) => ({ file, bytes: readInput(file, 'recovery export', 16 * 1024 * 1024) }));
  const images = inputs.filter((x) => isPng(x.bytes)).length;
  const onImage = (i: number, file: string): void => {
    if (images > 1 && (i % 10 === 0 || i === inputs.length - 1)) ctx.progress(`reading QR frame ${String(i + 1)}/${String(inputs.length)}: ${file}`);
  };
  // docs/protocol.md §7: the UR type of a recovery export, `custos-recovery-export`.
  return sortInputs(inputs, { type: UR_TYPES.export, what: 'recovery export', onImage });
}

const submit = command(SESSION_ID, {
  name: 'session submit',
  usage: '--session-id S',
  args: 'FILE|DIR...',
  summary: "custodians' recovery exports: export files, PNG images of their QR frames or -qr-frames.txt texts (exit 3 if some are refused)",
  run: (ctx) => {
    if (ctx.args.length === 0) throw usage('session submit --session-id S FILE|DIR... (export files, PNG frames or -qr-frames.txt)');
    const files = expandInputs(ctx.args);
    const sorted = collectExports(ctx, files);
    const skipLines = sorted.skipped.map((x) => `skipped  ${x.file}: ${x.reason}${x.problem ? ` (${x.code})` : ''}`);
    if (sorted.messages.length === 0) throw usage(['No export files or complete QR frames were found in the inputs.', ...skipLines].join('\n'));
    const exports = sorted.messages.map((m) => m.bytes);
    return withAgent(ctx, async (a) => {
      const sid = sessionId(ctx.values, a);
      if (exports.length > 1) ctx.progress(`verifying ${String(exports.length)} export(s)…`);
      const r = await a.submitExports(sid, exports, op(ctx.values));
      const s = r.session;
      const accepted = [...new Set(r.accepted)];
      return {
        data: {
          accepted,
          refused: r.refused,
          skipped: sorted.skipped,
          session: s,
          inputs: { files: files.length, qrFrames: sorted.frames, exports: exports.length, sources: sorted.messages.map((m) => m.names) },
        },
        lines: [
          ...accepted.map((i) => `accepted share ${String(i)}`),
          ...r.refused.map((x) => `refused  ${x.shareIndex === undefined ? 'an export' : `share ${String(x.shareIndex)}`}: ${x.message} (${x.code})`),
          ...skipLines,
          `Session ${short(s.sessionId)}: shares in ${s.received.join(', ') || 'none'}${s.serverAvailable !== undefined && s.serverAvailable.length > 0 ? ` + server ${s.serverAvailable.join(', ')}` : ''}; threshold ${String(s.threshold)}.`,
        ],
        exit: r.refused.length > 0 || sorted.skipped.some((x) => x.problem) ? 3 : 0,
      };
    });
  },
});

const complete = command(
  { ...SESSION_ID, 'peer-keydata': { type: 'string' }, drill: { type: 'boolean' } },
  {
    name: 'session complete',
    usage: '--session-id S [--peer-keydata FILE] [--drill]',
    summary: 'combines the shares, regenerates and checks the keydata and writes it back (--drill: checks only)',
    run: (ctx) => {
      const { values } = ctx;
      const peer = values['peer-keydata'] === undefined ? undefined : readInput(values['peer-keydata'], 'peer keydata', 1024 * 1024);
      return withAgent(ctx, async (a) => {
        const sid = sessionId(values, a);
        ctx.progress(values.drill === true ? 'Drill: combining and checking (nothing is written)…' : 'Combining, regenerating and checking the keydata…');
        const r = await a.completeRecovery(sid, { ...(peer === undefined ? {} : { peerKeydata: peer }), ...(values.drill === true ? { drill: true } : {}) }, op(values));
        return { data: { outcome: r }, lines: outcomeLines(r), exit: r.success ? 0 : 1 };
      });
    },
  },
);

const show = command(SESSION_ID, {
  name: 'session show',
  usage: '--session-id S',
  summary: 'one session: approvals, shares in, shares missing',
  run: (ctx) =>
    withAgent(ctx, (a) => {
      const s = a.getSession(sessionId(ctx.values, a));
      return { data: { session: s }, lines: sessionLines(s) };
    }),
});

const list = command(
  { 'key-id': { type: 'string' }, 'node-id': { type: 'string' } },
  {
    name: 'session list',
    usage: '[--key-id K --node-id N]',
    summary: 'every recovery session, or those of one node',
    run: async (ctx) => {
      const { values } = ctx;
      const filter = { ...(values['key-id'] === undefined ? {} : { keyId: values['key-id'] }), ...(values['node-id'] === undefined ? {} : { nodeId: values['node-id'] }) };
      const sessions = await withAgent(ctx, (a) => a.listSessions(filter));
      return {
        data: { sessions },
        lines:
          sessions.length === 0
            ? ['No recovery sessions.']
            : table([
                ['SESSION', 'STATE', 'MODE', 'KEY', 'NODE', 'INCIDENT', 'APPROVALS', 'CREATED'],
                ...sessions.map((s) => [s.sessionId, s.state, s.mode, s.keyId, s.nodeId, s.incidentId, String(s.approvals.length), s.createdAt === undefined ? '' : iso(s.createdAt)]),
              ]),
      };
    },
  },
);

const cancel = command(SESSION_ID, {
  name: 'session cancel',
  usage: '--session-id S',
  summary: "ends a session and destroys its key",
  run: (ctx) =>
    withAgent(ctx, async (a) => {
      const s = await a.cancelSession(sessionId(ctx.values, a), op(ctx.values));
      return { data: { session: s }, lines: [`Session ${s.sessionId} cancelled; its key was destroyed.`] };
    }),
});

export const sessionGroup: Group<AgentCliIo> = {
  name: 'session',
  summary: 'recovery sessions: approvals, request, exports, completion',
  commands: [open, details, approve, request, submit, complete, show, list, cancel],
};

