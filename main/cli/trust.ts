/**
 * `pin-agent`, `rotate-agent` and `trust …`: which agent key and which approvers this vault trusts,
 * and whom to call back about them (custodian CLI).
 */
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { ServiceError } from '../services/errors';
import type { CallBackContact } from '../services/state';
import type { Language } from '../services/messages';
import { applyAgentKeyRotation, pinAgent, pinApprover, pinnedAgent, pinRoster, previewAgentCard, previewApproverCard, previewRoster, removeApprover, setAgentContact, setApproverContact } from '../services/trust';
import { command, isoOf, language, need, openUnlocked, usage } from './common';
import { t } from './i18n';

const CONTACT_OPTIONS = { 'contact-name': { type: 'string' }, 'contact-reach': { type: 'string' } } as const;

/** --contact-name and --contact-reach together, or neither. */
function contactOf(values: { readonly 'contact-name'?: string | undefined; readonly 'contact-reach'?: string | undefined }): { name: string; reach: string } | undefined {
  const name = values['contact-name'];
  const reach = values['contact-reach'];
  if (name === undefined && reach === undefined) return undefined;
  if (name === undefined || reach === undefined) throw usage('Give the call-back contact as both --contact-name "…" and --contact-reach "phone or other way".');
  return { name, reach };
}

const contactText = (lang: Language, c: CallBackContact | undefined): string => (c === undefined ? t(lang, 'trustList.noContact') : t(lang, 'trustList.contact', { name: c.name, reach: c.reach }));

const pin = command(
  { card: { type: 'string' }, 'confirm-code': { type: 'string' }, ...CONTACT_OPTIONS },
  {
    name: 'pin-agent',
    usage: '--vault DIR --card FILE [--confirm-code "1234 5678 …"] [--contact-name NAME --contact-reach PHONE]',
    summary: "trusts the agent's card once its comparison code was checked with ops over a separate channel",
    run: async (ctx) => {
      const bytes = readInput(need(ctx.values.card, 'card'), 'agent card');
      const preview = previewAgentCard(bytes);
      const code = ctx.values['confirm-code'];
      if (code === undefined) {
        // Never the card's own code: the person must type what ops read out from the agent
        // (`agent info`), or the comparison turns into copy-paste of a possibly swapped card.
        throw new ServiceError(
          'CONFIRMATION_REQUIRED',
          `Agent card of "${preview.name}". Ask ops to read out the agent's fingerprint code (\`agent info\` on the agent's host) over a separate channel (phone, in person), then run again with --confirm-code "…" typed from what they read.`,
          { details: { name: preview.name } },
        );
      }
      const contact = contactOf(ctx.values);
      const v = await openUnlocked(ctx);
      const r = await pinAgent(v, bytes, code, contact);
      return { data: { ...r }, lines: [t(await language(ctx), r.alreadyPinned ? 'pin.agentAlready' : 'pin.agentNow', { name: r.name, code: r.code })] };
    },
  },
);

const rotate = command(
  { notice: { type: 'string' } },
  {
    name: 'rotate-agent',
    usage: '--vault DIR --notice FILE',
    summary: "applies the agent's signed key replacement notice",
    run: async (ctx) => {
      const bytes = readInput(need(ctx.values.notice, 'notice'), 'key replacement notice');
      const v = await openUnlocked(ctx);
      const r = await applyAgentKeyRotation(v, bytes);
      return { data: { previous: r.previous, next: r.next }, lines: [t(await language(ctx), 'rotate.done', { from: r.previous.code, to: r.next.code, name: r.next.name })] };
    },
  },
);

const approverPin = command(
  { card: { type: 'string' }, 'confirm-code': { type: 'string' }, ...CONTACT_OPTIONS },
  {
    name: 'trust approver pin',
    usage: '--vault DIR --card FILE --confirm-code "1234 5678 …" [--contact-name NAME --contact-reach PHONE]',
    summary: "trusts an approver's card once its comparison code was checked with the approver over a separate channel",
    run: async (ctx) => {
      const bytes = readInput(need(ctx.values.card, 'card'), 'approver card');
      const preview = previewApproverCard(bytes);
      const code = ctx.values['confirm-code'];
      if (code === undefined) {
        // As for the agent: never the card's own code, which would turn the comparison into copy-paste.
        throw new ServiceError(
          'CONFIRMATION_REQUIRED',
          `Approver card of "${preview.name}". Ask the approver to read out their code (\`approver keygen\` printed it) over a separate channel (phone, in person), then run again with --confirm-code "…" typed from what they read, and --contact-name/--contact-reach to call them back.`,
          { details: { name: preview.name } },
        );
      }
      const contact = contactOf(ctx.values);
      const v = await openUnlocked(ctx);
      const r = await pinApprover(v, bytes, code, contact);
      return { data: { ...r }, lines: [t(await language(ctx), r.alreadyPinned ? 'pin.approverAlready' : 'pin.approverNow', { name: r.name, code: r.code })] };
    },
  },
);

const approverRemove = command(
  { fingerprint: { type: 'string' } },
  {
    name: 'trust approver remove',
    usage: '--vault DIR --fingerprint HEX',
    summary: 'stops trusting an approver (their approvals no longer count)',
    run: async (ctx) => {
      const fp = need(ctx.values.fingerprint, 'fingerprint');
      const v = await openUnlocked(ctx);
      const r = await removeApprover(v, fp);
      return { data: { name: r.name, fingerprint: r.fingerprint, code: r.code }, lines: [t(await language(ctx), 'pin.approverRemoved', { name: r.name, code: r.code })] };
    },
  },
);

const contactCmd = command(
  { ...CONTACT_OPTIONS },
  {
    name: 'trust contact',
    usage: '--vault DIR --contact-name NAME --contact-reach PHONE',
    summary: 'records whom to call back about the pinned agent (ops)',
    run: async (ctx) => {
      const contact = contactOf(ctx.values);
      if (contact === undefined) throw usage('Give --contact-name "…" and --contact-reach "…".');
      const v = await openUnlocked(ctx);
      const r = await setAgentContact(v, contact);
      return { data: { contact: r }, lines: [t(await language(ctx), 'contact.agent', { name: r.name, reach: r.reach })] };
    },
  },
);

const list = command(
  {},
  {
    name: 'trust list',
    usage: '--vault DIR',
    summary: 'the pinned agent and approvers, with their codes and call-back contacts',
    run: async (ctx) => {
      const v = await openUnlocked(ctx);
      const lang = await language(ctx);
      const a = pinnedAgent(v);
      const approvers = (a?.approvers ?? []).map((p) => ({ name: p.name, code: p.code, fingerprint: p.fingerprint, pinnedAt: p.pinnedAt, via: p.via, status: p.status, ...(p.contact === undefined ? {} : { contact: p.contact }) }));
      return {
        data: {
          agent: a === null ? null : { name: a.name, code: a.code, fingerprint: a.fingerprint, pinnedAt: a.pinnedAt, via: a.via, ...(a.contact === undefined ? {} : { contact: a.contact }) },
          approvers,
          roster: a?.roster === undefined ? null : { version: a.roster.version, issuedAt: a.roster.issuedAt, pinnedAt: a.roster.pinnedAt },
        },
        lines: [
          a === null ? t(lang, 'trustList.noAgent') : t(lang, 'trustList.agent', { name: a.name, code: a.code, when: isoOf(a.pinnedAt), contact: contactText(lang, a.contact) }),
          ...(approvers.length === 0 ? [t(lang, 'trustList.noApprovers')] : []),
          ...approvers.map((p) =>
            t(lang, 'trustList.approver', { name: p.name, code: p.code, disabled: p.status === 'disabled' ? 'yes' : 'no', via: p.via, when: isoOf(p.pinnedAt), contact: contactText(lang, p.contact) }),
          ),
          ...(a?.roster === undefined ? [] : [t(lang, 'trustList.roster', { version: a.roster.version, when: isoOf(a.roster.issuedAt) })]),
        ],
      };
    },
  },
);

const approverContact = command(
  { fingerprint: { type: 'string' }, ...CONTACT_OPTIONS },
  {
    name: 'trust approver contact',
    usage: '--vault DIR --fingerprint HEX --contact-name NAME --contact-reach PHONE',
    summary: 'records whom to call back about a pinned approver (one from the roster too)',
    run: async (ctx) => {
      const fp = need(ctx.values.fingerprint, 'fingerprint');
      const contact = contactOf(ctx.values);
      if (contact === undefined) throw usage('Give --contact-name "…" and --contact-reach "…".');
      const v = await openUnlocked(ctx);
      const r = await setApproverContact(v, fp, contact);
      return { data: { name: r.name, contact }, lines: [t(await language(ctx), 'contact.approver', { approver: r.name, name: contact.name, reach: contact.reach })] };
    },
  },
);

const rosterPin = command(
  { roster: { type: 'string' }, 'confirm-code': { type: 'string' } },
  {
    name: 'trust roster pin',
    usage: '--vault DIR --roster FILE [--confirm-code "1234 5678 …"]',
    summary: "trusts the agent-signed approver roster (`agent approver roster --out FILE`); a newer version replaces it, an older one is refused",
    run: async (ctx) => {
      const bytes = readInput(need(ctx.values.roster, 'roster'), 'approver roster');
      const v = await openUnlocked(ctx);
      const p = previewRoster(v, bytes);
      const code = ctx.values['confirm-code'];
      if (p.pinnedVersion === null && code === undefined) {
        throw new ServiceError(
          'CONFIRMATION_REQUIRED',
          `Approver roster version ${String(p.version)} of ${String(p.approvers.length)} approver(s). The first roster you trust needs the agent's code compared again: ask ops to read it out (\`agent info\`) over a separate channel, then run again with --confirm-code "…".`,
          { details: { version: p.version } },
        );
      }
      const r = await pinRoster(v, bytes, code);
      const lang = await language(ctx);
      return {
        data: { ...r },
        lines: [
          t(lang, r.alreadyPinned ? 'rosterPin.already' : 'rosterPin.now', { version: r.version, how: r.succession }),
          ...r.approvers.map((a) => t(lang, 'rosterPin.approver', { name: a.name, code: a.code, disabled: a.status === 'disabled' ? 'yes' : 'no' })),
        ],
      };
    },
  },
);

export const trustGroup: Group = {
  name: 'trust',
  summary: 'the approvers this vault trusts (cards or the agent-signed roster), and whom to call back',
  commands: [approverPin, approverRemove, approverContact, rosterPin, contactCmd, list],
};

export const pinAgentGroup: Group = { name: 'pin-agent', summary: "trust the agent's card after comparing its code", commands: [pin] };
export const rotateAgentGroup: Group = { name: 'rotate-agent', summary: "the agent's signed key replacement", commands: [rotate] };
