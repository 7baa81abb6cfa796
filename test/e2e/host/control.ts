/**
 * The test's side of the host (Node): the control endpoints (/test/…) and direct IPC calls, for
 * setting up state without clicking through screens (a vault with shares, an agent card…) and for
 * checking what the app saved. Playwright specs get one as the `host` fixture (fixture.ts).
 */
import type { Channel, FileIn, FileOut, IpcResult, RequestOf, ResponseOf } from '../../../shared/ipc/contract';
import { fromWire, toWire } from '../../../shared/ipc/wire';

export class HostControl {
  readonly url: string;
  readonly token: string;

  constructor(url: string, token: string) {
    this.url = url;
    this.token = token;
  }

  /** From the environment global-setup.ts fills (CUSTOS_HOST_URL, CUSTOS_HOST_TOKEN). */
  static fromEnv(): HostControl {
    const url = process.env['CUSTOS_HOST_URL'];
    const token = process.env['CUSTOS_HOST_TOKEN'];
    if (url === undefined || token === undefined) throw new Error('The e2e test host is not running: playwright.config.ts must use test/e2e/host/global-setup.ts.');
    return new HostControl(url, token);
  }

  async #post(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: toWire(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: HTTP ${String(res.status)} ${text}`);
    return fromWire(text);
  }

  async #get(path: string): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: HTTP ${String(res.status)} ${text}`);
    return fromWire(text);
  }

  /** One IPC call, exactly as the page would make it. */
  call<C extends Channel>(channel: C, payload: RequestOf<C>): Promise<IpcResult<ResponseOf<C>>> {
    return this.#post(`/ipc/${channel}`, payload) as Promise<IpcResult<ResponseOf<C>>>;
  }

  /** One IPC call that must succeed; its value. */
  async ok<C extends Channel>(channel: C, payload: RequestOf<C>): Promise<ResponseOf<C>> {
    const r = await this.call(channel, payload);
    if (!r.ok) throw new Error(`${channel} refused: ${r.error.code} ${r.error.detail ?? r.error.message.en}`);
    return r.value;
  }

  /** A fresh profile: empty vault folder, default settings, empty station. */
  async reset(): Promise<void> {
    await this.#post('/test/reset', {});
  }

  /** The files the next "open" dialog returns (one call per dialog). */
  async openFiles(files: readonly FileIn[]): Promise<void> {
    await this.#post('/test/open-files', { files });
  }

  /** (H11) The folder (an absolute path on this machine) the next "choose folder" dialog answers; null = cancelled. */
  async chooseFolder(folder: string | null): Promise<void> {
    await this.#post('/test/choose-folder', { folder });
  }

  async cancelNextSave(): Promise<void> {
    await this.#post('/test/cancel-next-save', {});
  }

  /** What "save" dialogs wrote so far in this profile. */
  async saved(): Promise<{ saved: FileOut[]; calls: string[] }> {
    return (await this.#get('/test/saved')) as { saved: FileOut[]; calls: string[] };
  }

  /** Moves the vault's clock (expiry, cooling periods, unlock delays). */
  async advanceClock(seconds: number): Promise<void> {
    await this.#post('/test/clock', { advanceSeconds: seconds });
  }

  async setClock(nowMs: number): Promise<void> {
    await this.#post('/test/clock', { nowMs });
  }

  /** (H5) Holds every unlock after its first record file until called again with false (resolves once set). */
  async holdUnlock(hold: boolean): Promise<{ held: boolean; waiting: number }> {
    return (await this.#post('/test/hold-unlock', { hold })) as { held: boolean; waiting: number };
  }

  /** Locks as the auto-lock timer would (emits `vault:locked` with reason `idle`). */
  async idle(): Promise<void> {
    await this.#post('/test/idle', {});
  }

  /** Events emitted since the last reset. */
  async events(): Promise<{ event: string; payload: unknown }[]> {
    return ((await this.#get('/test/events')) as { events: { event: string; payload: unknown }[] }).events;
  }
}
