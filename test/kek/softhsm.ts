// A real PKCS#11 token for the tests: Debian's SoftHSM2 with its own token directory per test, so
// tests never share (or leave behind) token state. The setup (scripts/setup.mjs) installs softhsm2;
// when it is missing the tests FAIL with the sentence saying what to install, they never skip.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN = '493817';
export const SO_PIN = '80245617';

export interface Token {
  /** The folder with softhsm2.conf and tokens/. */
  readonly root: string;
  readonly conf: string;
  readonly tokenDir: string;
  readonly label: string;
  /** An owner-only file holding the user PIN. */
  readonly pinFile: string;
  /** Environment for a child process using this token (SOFTHSM2_CONF). */
  readonly env: NodeJS.ProcessEnv;
}

const roots: string[] = [];

export function requireSoftHsm(): void {
  if (!existsSync(SOFTHSM_MODULE) || spawnSync('softhsm2-util', ['--version']).status !== 0) {
    throw new Error(`SoftHSM2 is not installed (${SOFTHSM_MODULE} / softhsm2-util missing): run \`npm run setup\` or \`apt-get install -y softhsm2\`.`);
  }
}

/**
 * Makes a token directory with one initialised token labelled `label`, and points this process's
 * SOFTHSM2_CONF at it (SoftHSM reads it at C_Initialize: close every provider between tests).
 */
export function makeToken(label = 'custos-test', options: { root?: string } = {}): Token {
  requireSoftHsm();
  const root = options.root ?? mkdtempSync(join(tmpdir(), 'custos-softhsm-'));
  if (options.root === undefined) roots.push(root);
  const tokenDir = join(root, 'tokens');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const conf = join(root, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', USER_PIN, '--so-pin', SO_PIN], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${r.stderr}`);
  const pinFile = join(root, `${label}.pin`);
  writeFileSync(pinFile, `${USER_PIN}\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  return { root, conf, tokenDir, label, pinFile, env };
}

export function removeTokens(): void {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
}
