// Helpers for the IPC tests: an AppContext over a temp vault folder (weak KDF, explicit test opt-in;
// a clock that stands at the protocol fixtures' NOW), events and logs recorded, scripted dialogs,
// and `call`/`refused` around the SAME dispatch the Electron glue and the test host use.
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Channel, EventName, IpcError, RequestOf, ResponseOf } from '../../shared/ipc/contract';
import { toWire } from '../../shared/ipc/wire';
import { AppContext, type HostServices } from '../../main/context';
import { dispatch } from '../../main/dispatch';
import { installNodeVerifier } from '../../node/ed25519';
import { SHEET_FONT_FILE } from '../../main/services/sheet';
import { ScriptedDialogs } from '../e2e/host/dialogs';
import { NOW, PASSPHRASE, tempDir, testClock, TEST_LOG_N } from '../custodian/helpers';

installNodeVerifier();

export const ROOT = new URL('../..', import.meta.url).pathname;
export const SHEET_FONT = join(ROOT, 'resources/fonts', SHEET_FONT_FILE);

export interface Harness {
  readonly ctx: AppContext;
  readonly dir: string;
  readonly vaultDir: string;
  readonly events: { event: EventName; payload: unknown }[];
  readonly logs: { event: string; fields: Record<string, string> }[];
  readonly dialogs: ScriptedDialogs;
  readonly clock: ReturnType<typeof testClock>;
  /** Every answer `call` and `refused` got, as wire JSON (to search for what must never cross). */
  readonly answers: string[];
}

export function harness(overrides: Partial<HostServices> = {}): Harness {
  const dir = tempDir('custos-ipc-');
  const vaultDir = join(dir, 'vault');
  const events: Harness['events'] = [];
  const logs: Harness['logs'] = [];
  const dialogs = new ScriptedDialogs(join(dir, 'downloads'));
  const clock = testClock(NOW);
  const ctx = new AppContext({
    vaultDir,
    sheetFontPath: SHEET_FONT,
    dialogs,
    emit: (event, payload) => events.push({ event, payload }),
    log: (event, fields) => logs.push({ event, fields }),
    app: { version: 'test', platform: process.platform },
    vaultOptions: { clock: clock.fn, sleep: () => Promise.resolve() },
    createOptions: { kdfLogN: TEST_LOG_N, allowWeakKdf: true },
    ...overrides,
  });
  return { ctx, dir, vaultDir, events, logs, dialogs, clock, answers: [] };
}

/** Calls a channel that must succeed. */
export async function call<C extends Channel>(h: Harness, channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>> {
  const r = await dispatch(channel, payload, h.ctx);
  h.answers.push(toWire(r));
  if (!r.ok) expect.fail(`${channel} refused: ${r.error.code} ${r.error.detail ?? r.error.message.en}`);
  return r.value;
}

/** Calls a channel (payload deliberately untyped) that must be refused; the error. */
export async function refused(h: Harness, channel: unknown, payload: unknown, code?: string): Promise<IpcError> {
  const r = await dispatch(channel, payload, h.ctx);
  h.answers.push(toWire(r));
  if (r.ok) expect.fail(`${String(channel)} was accepted; expected ${code ?? 'a refusal'}`);
  if (code !== undefined) expect(r.error.code, r.error.detail).toBe(code);
  return r.error;
}

/** A vault created and unlocked through IPC. */
export async function withVault(h: Harness, name = 'Carol (cold storage)'): Promise<ResponseOf<'vault:create'>> {
  return call(h, 'vault:create', { name, passphrase: PASSPHRASE });
}

export const file = (name: string, bytes: Uint8Array): { name: string; bytes: Uint8Array } => ({ name, bytes });
