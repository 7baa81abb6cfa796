/**
 * One handler per IPC channel (shared/ipc/contract.ts), each a thin call into the services in
 * main/services/. A handler gets a request already parsed by the contract and returns what the
 * contract's response schema parses; main/dispatch.ts does both parses and turns failures into
 * coded IPC errors. The map is typed by the contract, so a channel without a handler, or a
 * handler answering the wrong shape, does not compile.
 *
 * The handlers are grouped by feature in this folder (vault.ts, shares.ts, recovery.ts, records.ts);
 * each group is checked against exactly its channels (types.ts `HandlersFor`), and this map against
 * every channel.
 */
import { approversHandlers } from './approvers';
import { recordsHandlers } from './records';
import { recoveryHandlers } from './recovery';
import { sharesHandlers } from './shares';
import { agentLinkHandlers } from './station-link';
import { backupHandlers } from './vault-backup';
import type { Handlers } from './types';
import { vaultHandlers } from './vault';

export type { Handler, Handlers } from './types';

export const HANDLERS: Handlers = { ...vaultHandlers, ...sharesHandlers, ...recoveryHandlers, ...recordsHandlers, ...approversHandlers, ...backupHandlers, ...agentLinkHandlers };
