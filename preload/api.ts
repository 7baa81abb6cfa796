/**
 * The preload API, built from the per-feature modules into one `as const` object (HANDBOOK:
 * Bitwarden's habit). It takes its transport as arguments: preload/index.ts passes
 * `ipcRenderer.invoke`/`ipcRenderer.on`, the end-to-end bridge (test/e2e/host/bridge.ts) a fetch to
 * the test host. The renderer's type for `window.custos` is derived from this code
 * (`CustosApi`, renderer/src/api.ts), never written twice.
 *
 * Every function answers an `IpcResult`: `{ ok: true, value }` or `{ ok: false, error }` with a
 * coded error and its sentence in English and Chinese (shared/ipc/contract.ts).
 *
 * Pure TypeScript, no Electron: it imports only types from the contract, so zod is not bundled
 * into the preload.
 */
import type { Invoke, Subscribe } from '../shared/ipc/contract';
import { agentApi } from './agent';
import { approversApi } from './approvers';
import { appApi } from './app';
import { auditApi } from './audit';
import { backupApi } from './backup';
import { deletionApi } from './deletion';
import { eventsApi } from './events';
import { filesApi } from './files';
import { inboxApi } from './inbox';
import { inventoryApi } from './inventory';
import { qrApi } from './qr';
import { receiptsApi } from './receipts';
import { recoveryApi } from './recovery';
import { settingsApi } from './settings';
import { sharesApi } from './shares';
import { stationApi } from './station';
import { supersedeApi } from './supersede';
import { trustApi } from './trust';
import { vaultApi } from './vault';

export function buildApi(invoke: Invoke, subscribe: Subscribe) {
  return {
    app: appApi(invoke),
    vault: vaultApi(invoke),
    backup: backupApi(invoke),
    trust: trustApi(invoke),
    approvers: approversApi(invoke),
    inbox: inboxApi(invoke),
    shares: sharesApi(invoke),
    receipts: receiptsApi(invoke),
    recovery: recoveryApi(invoke),
    station: stationApi(invoke),
    agent: agentApi(invoke),
    inventory: inventoryApi(invoke),
    supersede: supersedeApi(invoke),
    deletion: deletionApi(invoke),
    audit: auditApi(invoke),
    settings: settingsApi(invoke),
    qr: qrApi(invoke),
    files: filesApi(invoke),
    events: eventsApi(subscribe),
  } as const;
}

export type CustosApi = ReturnType<typeof buildApi>;
