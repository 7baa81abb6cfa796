/**
 * What the IPC handlers share for the app's run: the vault (opened lazily, locked or unlocked),
 * the settings, the auto-lock timer, running imports (to cancel them), the recovery station, the
 * linked agent's token (memory only) and the way out to the renderer (`emit`).
 *
 * Plain Node, no Electron: the Electron glue (main/index.ts) and the end-to-end test host
 * (test/e2e/host/) build one with their own `HostServices`, and run the SAME dispatch over it.
 */
import { join } from 'node:path';
import type { Transport } from '@connectrpc/connect';
import { EVENTS, type EventName, type EventPayload, type FileIn, type FileOut, type Language } from '../shared/ipc/contract';
import { connectNodeTransport, agentClients, type AgentClients, type AgentLink, type TransportFactory } from './services/agent-client';
import type { LinkCheck } from './services/agent-link';
import { AutoLock, type Timers } from './services/autolock';
import { ServiceError } from './services/errors';
import { readSettingsOrDefaults, SETTINGS_FILE, type Settings } from './services/settings';
import { loadSheetFont } from './services/sheet';
import { Station } from './services/station';
import { Vault, type CreateOptions, type VaultOptions } from './services/vault';

export type Logger = (event: string, fields: Record<string, string>) => void;

/** What a folder dialog is for (FileDialogs.chooseFolder). */
export type FolderPurpose = 'vault-backup' | 'vault-restore';

/** The system file dialogs (Electron `dialog` in the app; a scripted stand-in in the test host). */
export interface FileDialogs {
  /** Asks where to save `file` (its name suggested) and writes it; the chosen name, or null if cancelled. */
  save(file: FileOut): Promise<string | null>;
  /** Asks for a folder and writes every file into it; the folder's name and the names written, or null. */
  saveAll(files: readonly FileOut[]): Promise<{ folder: string; names: string[] } | null>;
  /** Asks which files to open; their names (never paths) and bytes. */
  open(options: { purpose: string; multiple: boolean }): Promise<FileIn[]>;
  /**
   * (H11) Asks for a folder: to write the vault backup into, or (H2) the backup to restore from; its
   * absolute path, which stays in main, or null if cancelled. `language`: the dialog's title and button.
   */
  chooseFolder(purpose: FolderPurpose, language?: Language): Promise<string | null>;
}

export interface HostServices {
  /** The vault folder (settings.json lives there too). */
  readonly vaultDir: string;
  /** Path of the sheet font (resources/fonts/custos-sheet-sc.ttf). */
  readonly sheetFontPath: string;
  readonly dialogs: FileDialogs;
  /** Sends an event to the renderer (already checked against the contract). */
  readonly emit: (event: EventName, payload: unknown) => void;
  readonly log: Logger;
  readonly app: { readonly version: string; readonly platform: string };
  /** Clock, sleep and KDF of the vault (tests). */
  readonly vaultOptions?: VaultOptions;
  /** Vault creation options (tests: a weak KDF, explicitly). Never from the renderer. */
  readonly createOptions?: Pick<CreateOptions, 'kdfLogN' | 'allowWeakKdf' | 'kdfTargetMs'>;
  /** How to reach the linked agent (default: Connect over HTTP/2). Tests inject a router transport. */
  readonly agentTransport?: TransportFactory;
  /** Timers of the auto-lock (tests). */
  readonly timers?: Timers;
}

/** Progress events are throttled to this interval (the last one of an operation always goes out). */
export const PROGRESS_INTERVAL_MS = 50;

export class AppContext {
  readonly host: HostServices;
  readonly station = new Station();
  /** Running cancellable operations by opId. */
  readonly operations = new Map<string, AbortController>();
  #vault: Vault | null = null;
  #settings: Settings | null = null;
  #autolock: AutoLock | null = null;
  #agentToken: string | null = null;
  #transport: { key: string; clients: AgentClients } | null = null;
  #font: Uint8Array | null = null;
  readonly #lastProgress = new Map<string, number>();

  constructor(host: HostServices) {
    this.host = host;
  }

  get settingsPath(): string {
    return join(this.host.vaultDir, SETTINGS_FILE);
  }

  /** Milliseconds, from the vault's clock when one is injected. */
  nowMs(): number {
    return this.host.vaultOptions?.clock?.() ?? Date.now();
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  // ---- vault ------------------------------------------------------------------------------------

  /** The vault if one exists in the folder (opened once, locked), else null. */
  async vaultIfExists(): Promise<Vault | null> {
    if (this.#vault !== null) return this.#vault;
    if (!(await Vault.exists(this.host.vaultDir))) return this.#vault;
    const opened = await Vault.open(this.host.vaultDir, this.host.vaultOptions ?? {});
    // A vault created (and adopted, unlocked) while this was opening wins: otherwise a status call
    // that raced vault:create replaced the new unlocked vault with a locked copy of it, and the
    // window showed the unlock screen right after first run (seen in e2e under load).
    this.#vault ??= opened;
    return this.#vault;
  }

  /** The vault; VAULT_NOT_FOUND before first run. */
  async vault(): Promise<Vault> {
    const v = await this.vaultIfExists();
    if (v === null) throw new ServiceError('VAULT_NOT_FOUND', 'No vault has been created yet.');
    return v;
  }

  /** The unlocked vault; VAULT_LOCKED otherwise. */
  async unlocked(): Promise<Vault> {
    const v = await this.vault();
    if (!v.unlocked) throw new ServiceError('VAULT_LOCKED', 'The vault is locked.');
    return v;
  }

  /** After create: the new vault, unlocked. */
  adoptVault(vault: Vault): void {
    this.#vault = vault;
  }

  /** Starts (or restarts) auto-lock for the unlocked vault, with the minutes from settings. */
  async startAutoLock(): Promise<void> {
    const v = this.#vault;
    if (v === null || !v.unlocked) return;
    this.#autolock?.stop();
    const minutes = (await this.settings()).autoLockMinutes;
    this.#autolock = new AutoLock(v, minutes, () => {
      this.emit('vault:locked', { reason: 'idle', at: this.nowSeconds() });
    }, this.host.timers);
  }

  /** A person or the renderer did something: restart the idle timer. */
  activity(): void {
    this.#autolock?.activity();
  }

  /** Locks now (reason `request` from vault:lock, `idle` from the test host's idle trigger). */
  async lock(reason: 'request' | 'idle' | 'error'): Promise<void> {
    this.#autolock?.stop();
    this.#autolock = null;
    for (const c of this.operations.values()) c.abort();
    const v = this.#vault;
    if (v !== null && v.unlocked) {
      await v.lock();
    }
    this.emit('vault:locked', { reason, at: this.nowSeconds() });
  }

  // ---- settings ---------------------------------------------------------------------------------

  async settings(): Promise<Settings> {
    if (this.#settings === null) this.#settings = (await readSettingsOrDefaults(this.settingsPath)).settings;
    return this.#settings;
  }

  /** After settings:set: remember, re-time auto-lock, forget the agent transport if the URL moved. */
  settingsChanged(next: Settings): void {
    const before = this.#settings;
    this.#settings = next;
    if (before?.agentUrl !== next.agentUrl) {
      // The token belongs to the agent it was entered for: never send it to a new address.
      this.#transport = null;
      this.#agentToken = null;
      this.agentCheck = null;
    }
    if (before?.autoLockMinutes !== next.autoLockMinutes) this.#autolock?.setMinutes(next.autoLockMinutes);
    this.emit('settings:changed', { settings: next });
  }

  /** The only origin the renderer's session may reach besides the app's own files (harden.ts). */
  agentOrigin(): string | null {
    const url = this.#settings?.agentUrl ?? null;
    if (url === null) return null;
    try {
      return new URL(url).origin;
    } catch {
      return null;
    }
  }

  // ---- the linked agent -------------------------------------------------------------------------

  get agentTokenSet(): boolean {
    return this.#agentToken !== null;
  }

  /** The last link check (main/services/agent-link.ts); null after the URL or the token changed. */
  agentCheck: LinkCheck | null = null;

  setAgentToken(token: string | null): void {
    this.#agentToken = token;
    this.#transport = null;
    this.agentCheck = null;
  }

  /** Clients for the linked agent; AGENT_NOT_LINKED without a URL or a token. */
  async agent(): Promise<AgentClients> {
    const url = (await this.settings()).agentUrl;
    if (url === null) throw new ServiceError('AGENT_NOT_LINKED', 'No agent URL is set in Settings, so nothing is sent anywhere.');
    const token = this.#agentToken;
    if (token === null) throw new ServiceError('AGENT_NOT_LINKED', 'The linked agent needs its API token: enter it first (it is kept in memory only).');
    const key = `${url}\u0000${token}`;
    if (this.#transport?.key !== key) {
      const link: AgentLink = { url, token };
      const transport: Transport = (this.host.agentTransport ?? connectNodeTransport)(link);
      this.#transport = { key, clients: agentClients(transport) };
    }
    return this.#transport.clients;
  }

  // ---- sheet font -------------------------------------------------------------------------------

  async sheetFont(): Promise<Uint8Array> {
    this.#font ??= await loadSheetFont(this.host.sheetFontPath);
    return this.#font;
  }

  // ---- events -----------------------------------------------------------------------------------

  /** Checks an event against the contract and sends it; a bad one is a bug: logged, not sent. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const parsed = EVENTS[event].safeParse(payload);
    if (!parsed.success) {
      this.host.log('event-invalid', { event });
      return;
    }
    try {
      this.host.emit(event, parsed.data);
    } catch (error) {
      this.host.log('event-failed', { event, message: error instanceof Error ? error.message : 'unknown' });
    }
  }

  /** A throttled `progress` event; `force` for the last one. */
  progress(payload: EventPayload<'progress'>, force = false): void {
    const now = Date.now();
    const last = this.#lastProgress.get(payload.opId) ?? 0;
    const final = force || (payload.total > 0 && payload.done >= payload.total);
    if (!final && now - last < PROGRESS_INTERVAL_MS) return;
    this.#lastProgress.set(payload.opId, now);
    this.emit('progress', payload);
    if (final) this.#lastProgress.delete(payload.opId);
  }

  /** Stops timers (test host teardown, app quit). */
  dispose(): void {
    this.#autolock?.stop();
    this.#autolock = null;
    for (const c of this.operations.values()) c.abort();
  }
}
