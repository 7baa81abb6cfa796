/**
 * The custodian app's main-process services: plain Node modules (no Electron), used by the
 * Electron glue (main/index.ts, later) and the headless CLI (main/cli.ts).
 */
export * from './errors';
export * from './messages';
export * from './vault';
export * from './state';
export * from './audit';
export * from './trust';
export * from './inbox';
export * from './shares';
export * from './receipts';
export * from './recovery';
export * from './inventory';
export * from './supersede';
export * from './deletion';
export * from './settings';
export * from './autolock';
export * from './qr-files';
export * from './qr-import';
export { installNodeVerifier, nodeVerifier } from '../../node/ed25519';
export { installNodeCrypto } from '../../node/crypto-install';
export { calibrateScryptLogN, countingKdf, nodeScryptKdf, MIN_LOG_N, MAX_LOG_N, scryptLogNOf, type ScryptKdf } from './kdf';
