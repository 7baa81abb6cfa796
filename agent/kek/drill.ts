/**
 * The KEK of a recovery drill (`npm run drill -- --kek file|pkcs11`, scripts/drill.ts): the file
 * provider (a key file beside the drill's agent directory), or an HSM. With `--kek pkcs11` and the
 * token options (`--pkcs11-module --token-label --key-label [--pin-file]`, PIN otherwise from
 * CUSTOS_PKCS11_PIN) the drill uses that token, a real HSM included; with `--kek pkcs11` alone it
 * makes a throwaway SoftHSM2 token inside the work folder (random PIN in a 0600 file there), so the
 * whole drill runs through a real PKCS#11 module on any machine that has softhsm2 installed.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usage } from '../../node/cli/errors';
import { kekChoiceFrom, KEK_INIT_OPTIONS } from './cli';
import type { KekChoice } from './config';

export const DRILL_KEK_OPTIONS = KEK_INIT_OPTIONS;

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface DrillKekValues {
  readonly kek?: string | undefined;
  readonly 'kek-file'?: string | undefined;
  readonly 'pkcs11-module'?: string | undefined;
  readonly 'token-label'?: string | undefined;
  readonly 'key-label'?: string | undefined;
  readonly 'pin-file'?: string | undefined;
}

export interface DrillKek {
  readonly choice: KekChoice;
  /** For the report: which provider, and for an HSM whether the drill made the token. */
  readonly description: string;
}

/** Makes a SoftHSM2 token in `dir` and points this process at it (SOFTHSM2_CONF). */
function throwawayToken(dir: string): { pinFile: string; tokenLabel: string } {
  if (!existsSync(SOFTHSM_MODULE) || spawnSync('softhsm2-util', ['--version']).status !== 0) {
    throw usage(`--kek pkcs11 without token options makes a SoftHSM2 token, but SoftHSM2 is not installed (apt-get install -y softhsm2); or name your HSM with --pkcs11-module, --token-label and --key-label.`);
  }
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`, { mode: 0o600 });
  const pin = randomBytes(12).toString('hex');
  const tokenLabel = 'custos-drill';
  const r = spawnSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--pin', pin, '--so-pin', randomBytes(12).toString('hex')], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${r.stderr.trim()}`);
  const pinFile = join(dir, 'user.pin');
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  return { pinFile, tokenLabel };
}

/** The drill's KEK from its options; `work` is the drill's work folder. */
export function drillKek(values: DrillKekValues, env: NodeJS.ProcessEnv, work: string): DrillKek {
  const provider = values.kek ?? 'file';
  const named = values['pkcs11-module'] !== undefined || values['token-label'] !== undefined || values['key-label'] !== undefined;
  if (provider === 'pkcs11' && !named) {
    if (values['pin-file'] !== undefined) throw usage('--pin-file goes with --pkcs11-module, --token-label and --key-label (your own token).');
    const t = throwawayToken(join(work, 'softhsm'));
    return {
      choice: { provider: 'pkcs11', module: SOFTHSM_MODULE, tokenLabel: t.tokenLabel, keyLabel: 'custos-drill-kek', pinFile: t.pinFile },
      description: 'pkcs11, a SoftHSM2 token made for this drill',
    };
  }
  const choice = kekChoiceFrom(values, provider, env);
  return { choice, description: choice.provider === 'file' ? 'file' : `pkcs11, token "${choice.tokenLabel}"` };
}
