/** `settings show | set`: the vault's settings file (custodian CLI). */
import { join } from 'node:path';
import { oneOf, wholeNumber } from '../../node/cli/inputs';
import { LANGUAGES, type Language } from '../../shared/languages';
import type { Group } from '../../node/cli/runner';
import { agentUrlProblem, readSettingsOrDefaults, SETTINGS_FILE, updateSettings, type Settings } from '../services/settings';
import { command, language, usage, vaultDir } from './common';
import { t } from './i18n';

/** The settings as lines in the user's language (`--json` keeps the file's fields as they are). */
function settingsLines(lang: Language, s: Settings): string[] {
  return [
    t(lang, 'settings.language', { lang: s.language }),
    t(lang, 'settings.autoLock', { n: s.autoLockMinutes }),
    s.agentUrl === null ? t(lang, 'settings.agentNone') : t(lang, 'settings.agentUrl', { url: s.agentUrl }),
    t(lang, 'settings.cooling', { n: s.deletionCoolingDays }),
    t(lang, 'settings.minExpiry', { n: s.recoveryMinExpiryMinutes }),
    t(lang, 'settings.expectMode', { mode: s.recoveryExpectMode === 'external-only' ? 'externalOnly' : 'any' }),
  ];
}

const show = command(
  {},
  {
    name: 'settings show',
    usage: '--vault DIR',
    summary: 'the settings (defaults where none were set)',
    run: async (ctx) => {
      const r = await readSettingsOrDefaults(join(vaultDir(ctx), SETTINGS_FILE));
      const lang = await language(ctx);
      const problem = r.problem === undefined ? [] : [t(lang, 'settings.problem', { code: r.problem.code })];
      return { data: { settings: r.settings, ...(r.problem === undefined ? {} : { problem: r.problem.toJSON() }) }, lines: [...problem, ...settingsLines(lang, r.settings)] };
    },
  },
);

/** `--agent-url URL|none`, checked as usage (exit 2) before anything is written: the same rule as the settings file's. */
function agentUrlOption(text: string): string | null {
  if (text === 'none') return null;
  const problem = agentUrlProblem(text);
  if (problem !== undefined) throw usage(`--agent-url takes an agent URL or none; "${text}" ${problem}.`);
  return text;
}

const set = command(
  { language: { type: 'string' }, 'auto-lock-minutes': { type: 'string' }, 'agent-url': { type: 'string' }, 'cooling-days': { type: 'string' }, 'recovery-min-expiry-minutes': { type: 'string' }, 'recovery-expect-mode': { type: 'string' } },
  {
    name: 'settings set',
    usage: '--vault DIR [--language en|zh-CN] [--auto-lock-minutes N] [--agent-url URL|none] [--cooling-days N] [--recovery-min-expiry-minutes N] [--recovery-expect-mode any|external-only]',
    summary: 'changes settings (checked before anything is written)',
    run: async (ctx) => {
      const { values } = ctx;
      const change: Record<string, unknown> = {};
      if (values.language !== undefined) change['language'] = oneOf(values.language, 'language', LANGUAGES);
      if (values['auto-lock-minutes'] !== undefined) change['autoLockMinutes'] = wholeNumber(values['auto-lock-minutes'], 'auto-lock-minutes', 0, 24 * 60);
      if (values['agent-url'] !== undefined) change['agentUrl'] = agentUrlOption(values['agent-url']);
      if (values['cooling-days'] !== undefined) change['deletionCoolingDays'] = wholeNumber(values['cooling-days'], 'cooling-days', 1, 365);
      if (values['recovery-min-expiry-minutes'] !== undefined) change['recoveryMinExpiryMinutes'] = wholeNumber(values['recovery-min-expiry-minutes'], 'recovery-min-expiry-minutes', 0, 7 * 24 * 60);
      if (values['recovery-expect-mode'] !== undefined) change['recoveryExpectMode'] = oneOf(values['recovery-expect-mode'], 'recovery-expect-mode', ['any', 'external-only']);
      const s = await updateSettings(join(vaultDir(ctx), SETTINGS_FILE), change);
      return { data: { settings: s }, lines: settingsLines(await language(ctx), s) };
    },
  },
);

export const settingsGroup: Group = { name: 'settings', summary: 'language, auto-lock, agent URL, cooling period, recovery policy', commands: [show, set] };
