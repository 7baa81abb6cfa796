/** IPC handlers for the approvers this vault trusts and the call-back contacts (issue 12; main/services/trust.ts). */
import type { HandlerResultOf } from '../../shared/ipc/contract';
import type { PinnedApprover } from '../services/state';
import { pinApprover, pinnedAgent, pinRoster, previewApproverCard, previewRoster, removeApprover, setAgentContact, setApproverContact } from '../services/trust';
import type { HandlersFor } from './types';

function approverView(a: PinnedApprover): HandlerResultOf<'approvers:list'>['approvers'][number] {
  return {
    name: a.name,
    signKey: a.signKey,
    fingerprint: a.fingerprint,
    code: a.code,
    pinnedAt: a.pinnedAt,
    via: a.via,
    status: a.status,
    ...(a.contact === undefined ? {} : { contact: { ...a.contact } }),
  };
}

export const approversHandlers = {
  'approvers:preview': (req) => Promise.resolve(previewApproverCard(req.card.bytes)),
  'approvers:pin': async (req, ctx) => pinApprover(await ctx.unlocked(), req.card.bytes, req.confirmCode, req.contact),
  'approvers:remove': async (req, ctx) => {
    const r = await removeApprover(await ctx.unlocked(), req.fingerprint);
    return { name: r.name, code: r.code };
  },
  'approvers:list': async (_req, ctx) => {
    const a = pinnedAgent(await ctx.unlocked());
    return {
      approvers: (a?.approvers ?? []).map(approverView),
      agentContact: a?.contact === undefined ? null : { ...a.contact },
      roster: a?.roster === undefined ? null : { version: a.roster.version, issuedAt: a.roster.issuedAt, pinnedAt: a.roster.pinnedAt },
    };
  },
  'approvers:setAgentContact': async (req, ctx) => ({ contact: { ...(await setAgentContact(await ctx.unlocked(), req.contact)) } }),
  'approvers:setContact': async (req, ctx) => ({ name: (await setApproverContact(await ctx.unlocked(), req.fingerprint, req.contact)).name }),
  'approvers:previewRoster': async (req, ctx) => previewRoster(await ctx.unlocked(), req.roster.bytes),
  'approvers:pinRoster': async (req, ctx) => {
    const r = await pinRoster(await ctx.unlocked(), req.roster.bytes, req.confirmCode);
    return { ...r, approvers: r.approvers.map((a) => ({ ...a })) };
  },
} satisfies HandlersFor<'approvers'>;
