/**
 * The renderer's view of the preload API. Its type is DERIVED from the preload's code
 * (preload/api.ts, built from the per-feature modules), never written twice: change a preload
 * module or the contract and the renderer's typecheck follows.
 *
 *   const r = await custos().vault.unlock({ passphrase, opId: 'unlock-1' });
 *   if (!r.ok) show(r.error.message[lang]);   // code, both sentences, detail, details
 *
 * Every call answers `{ ok: true, value }` or `{ ok: false, error }` (never throws for a refusal);
 * `orThrow` turns a refusal into an `IpcFailure` when a screen prefers exceptions.
 */
import type { IpcError, IpcResult } from '../../shared/ipc/contract';

export type CustosApi = ReturnType<(typeof import('../../preload/api'))['buildApi']>;

declare global {
  interface Window {
    /** Exposed by the preload (Electron) or the end-to-end bridge (test host). */
    readonly custos?: CustosApi;
  }
}

/** The API; throws when the page runs without the preload (opened in a plain browser). */
export function custos(): CustosApi {
  const api = window.custos;
  if (api === undefined) throw new Error('window.custos is missing: this page must run inside Custos (or the e2e test host bridge).');
  return api;
}

/** A refusal as an exception, for code that prefers try/catch. */
export class IpcFailure extends Error {
  override readonly name = 'IpcFailure';
  readonly error: IpcError;
  constructor(error: IpcError) {
    super(error.detail ?? error.message.en);
    this.error = error;
  }
}

export function orThrow<T>(result: IpcResult<T>): T {
  if (!result.ok) throw new IpcFailure(result.error);
  return result.value;
}
