/**
 * The approvers part of the preload API (issue 12): approver cards compared out of band and pinned,
 * the call-back contacts, the pinned approver roster.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const approversApi = (invoke: Invoke) =>
  ({
    /** Opens an approver card and shows its code. Changes nothing. */
    preview: (request: RequestOf<'approvers:preview'>) => invoke('approvers:preview', request),
    /** Pins the card after the person confirmed its code with the approver. */
    pin: (request: RequestOf<'approvers:pin'>) => invoke('approvers:pin', request),
    /** Stops trusting an approver. */
    remove: (request: RequestOf<'approvers:remove'>) => invoke('approvers:remove', request),
    /** The pinned approvers, the agent's contact, the roster. */
    list: () => invoke('approvers:list', {}),
    /** Records whom to call back about the agent. */
    setAgentContact: (request: RequestOf<'approvers:setAgentContact'>) => invoke('approvers:setAgentContact', request),
    /** Records whom to call back about an approver. */
    setContact: (request: RequestOf<'approvers:setContact'>) => invoke('approvers:setContact', request),
    /** Opens the agent-signed approver roster. Changes nothing. */
    previewRoster: (request: RequestOf<'approvers:previewRoster'>) => invoke('approvers:previewRoster', request),
    /** Pins the roster (a newer version replaces the pinned one; an older one is refused). */
    pinRoster: (request: RequestOf<'approvers:pinRoster'>) => invoke('approvers:pinRoster', request),
  }) as const;
