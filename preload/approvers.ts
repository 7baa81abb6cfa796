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
  }) as const;
