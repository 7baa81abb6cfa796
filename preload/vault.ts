/**
 * The vault part of the preload API: first run, unlock and lock, the enrollment card.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const vaultApi = (invoke: Invoke) =>
  ({
    /** Which screen to show: no vault, locked (with the unlock delay), unlocked. */
    status: () => invoke('vault:status', {}),
    /** First run: creates the vault and identity; returns the enrollment card (file and QR). */
    create: (request: RequestOf<'vault:create'>) => invoke('vault:create', request),
    /** Unlocks (progress events: waiting, deriving, reading with files done of total). WRONG_PASSPHRASE carries details.delaySeconds. */
    unlock: (request: RequestOf<'vault:unlock'>) => invoke('vault:unlock', request),
    /** Locks now. */
    lock: () => invoke('vault:lock', {}),
    /** Re-encrypts the identity under a new passphrase. */
    changePassphrase: (request: RequestOf<'vault:changePassphrase'>) => invoke('vault:changePassphrase', request),
    /** A generated diceware passphrase (EFF long list) to show and write down. */
    generatePassphrase: (request: RequestOf<'vault:generatePassphrase'> = {}) => invoke('vault:generatePassphrase', request),
    /** The strength meter: ok, reasons and the guessing time at the vault's KDF cost. */
    checkPassphrase: (request: RequestOf<'vault:checkPassphrase'>) => invoke('vault:checkPassphrase', request),
    /** The enrollment card as a file and as QR frames, with the fingerprint code. */
    card: () => invoke('vault:card', {}),
  }) as const;
