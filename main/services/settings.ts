/**
 * App settings: language, auto-lock, the optional linked agent URL, the deletion cooling period and
 * the recovery policy (minimum time left on a request, expected recovery mode).
 * A small JSON file (not secret, so not in the vault: the language is needed before unlocking),
 * written atomically and parsed with zod on every read: a damaged or hand-edited file is refused
 * with SETTINGS_INVALID naming the field, or replaced by defaults where the caller prefers that.
 *
 * The linked agent URL is the only network address the app may ever contact, so it is checked
 * strictly: http(s) only, no credentials, no query or fragment; plain http only to a loopback host
 * (127.0.0.0/8, ::1, localhost), anything else must be https to an explicit host.
 */
import { z } from 'zod';
import { fromUtf8, utf8 } from '../../shared/bytes';
import { ServiceError } from './errors';
import { readIfExists, writeFileAtomic } from '../../node/fs-atomic';
import { LANGUAGES } from './messages';
import { DEFAULT_RECOVERY_POLICY, type RecoveryPolicy } from './recovery-warnings';

export const SETTINGS_FILE = 'settings.json';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.(?:[0-9]{1,3}\.){2}[0-9]{1,3}$/.test(hostname);
}

/** Why `url` cannot be a linked agent URL, or undefined when it can (normalised form returned by parse). */
export function agentUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must start with http:// or https://';
  if (u.username !== '' || u.password !== '') return 'must not contain a user name or password';
  if (u.search !== '' || u.hash !== '') return 'must not have a query (?…) or fragment (#…)';
  if (u.hostname === '') return 'must name a host';
  if (u.protocol === 'http:' && !isLoopback(u.hostname)) return 'may use plain http only for this computer (127.0.0.1, ::1 or localhost); use https for another host';
  return undefined;
}

export const agentUrlSchema = z
  .string()
  .max(2048)
  .superRefine((url, ctx) => {
    const problem = agentUrlProblem(url);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((url) => {
    const u = new URL(url);
    return u.origin + (u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, ''));
  });

export const settingsSchema = z.strictObject({
  version: z.literal(1),
  language: z.enum(LANGUAGES),
  /** Lock after this many idle minutes; 0 = never. */
  autoLockMinutes: z.number().int().min(0).max(24 * 60),
  /** Origin (and optional base path) of the linked agent, or null: then the app makes no network request. */
  agentUrl: agentUrlSchema.nullable(),
  deletionCoolingDays: z.number().int().min(1).max(365),
  /**
   * Recovery policy (issue 12), with defaults so files written before read unchanged: warn on a
   * recovery request with less time left than this many minutes, and on a mixed-mode request when
   * recovery is expected to use custodians' shares only.
   */
  recoveryMinExpiryMinutes: z.number().int().min(0).max(7 * 24 * 60).default(DEFAULT_RECOVERY_POLICY.minExpiryMinutes),
  recoveryExpectMode: z.enum(['any', 'external-only']).default(DEFAULT_RECOVERY_POLICY.expectMode),
});
export type Settings = z.output<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  version: 1,
  language: 'en',
  autoLockMinutes: 10,
  agentUrl: null,
  deletionCoolingDays: 7,
  recoveryMinExpiryMinutes: DEFAULT_RECOVERY_POLICY.minExpiryMinutes,
  recoveryExpectMode: DEFAULT_RECOVERY_POLICY.expectMode,
};

/** The recovery policy the review checks a request against (recovery-warnings.ts). */
export const recoveryPolicyOf = (s: Settings): RecoveryPolicy => ({ minExpiryMinutes: s.recoveryMinExpiryMinutes, expectMode: s.recoveryExpectMode });

function invalid(issue: z.core.$ZodIssue | undefined, what: string): ServiceError {
  const field = issue !== undefined && issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  return new ServiceError('SETTINGS_INVALID', `The ${what} is not valid: "${field}" ${issue?.message ?? 'is wrong'}.`, { details: { field } });
}

/** Reads settings; a missing file gives the defaults, an invalid one SETTINGS_INVALID. */
export async function readSettings(path: string): Promise<Settings> {
  const bytes = await readIfExists(path);
  if (bytes === undefined) return { ...DEFAULT_SETTINGS };
  let raw: unknown;
  try {
    raw = JSON.parse(fromUtf8(bytes));
  } catch (error) {
    throw new ServiceError('SETTINGS_INVALID', 'The settings file is not valid JSON.', { cause: error, details: { field: '(file)' } });
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error.issues[0], 'settings file');
  return parsed.data;
}

/** Like readSettings, but a damaged file yields the defaults and the problem (for the app to show). */
export async function readSettingsOrDefaults(path: string): Promise<{ settings: Settings; problem?: ServiceError }> {
  try {
    return { settings: await readSettings(path) };
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'SETTINGS_INVALID') return { settings: { ...DEFAULT_SETTINGS }, problem: error };
    throw error;
  }
}

/** Validates a change (from a UI or the CLI: `unknown` until parsed), writes the result atomically. */
export async function updateSettings(path: string, change: unknown): Promise<Settings> {
  if (typeof change !== 'object' || change === null || Array.isArray(change)) throw new ServiceError('SETTINGS_INVALID', 'A settings change must be an object.');
  const current = await readSettingsOrDefaults(path);
  const parsed = settingsSchema.safeParse({ ...current.settings, ...(change as Record<string, unknown>), version: 1 });
  if (!parsed.success) throw invalid(parsed.error.issues[0], 'setting');
  await writeFileAtomic(path, utf8(JSON.stringify(parsed.data, null, 2) + '\n'), { mode: 0o644 });
  return parsed.data;
}
