/** IPC handlers for the app, the vault, trusting an agent and the settings. */
import { promises as fsp } from 'node:fs';
import { LANGUAGES, type HandlerResultOf, type ShareStatus } from '../../shared/ipc/contract';
import { PROTOCOL_VERSION } from '../../shared/protocol';
import { toIpcError } from '../ipc-errors';
import { ServiceError } from '../services/errors';
import { readSettingsOrDefaults, updateSettings } from '../services/settings';
import type { PinnedAgent } from '../services/state';
import { applyAgentKeyRotation, pinAgent, previewAgentCard } from '../services/trust';
import { MIN_LOG_N } from '../services/kdf';
import { generatePassphrase, passphraseStrength, vaultKdfLogN } from '../services/passphrase';
import { Vault } from '../services/vault';
import { fileOut, qrFor } from './common';
import type { HandlersFor } from './types';

function agentView(a: PinnedAgent): HandlerResultOf<'trust:status'>['previous'][number] {
  return { name: a.name, signKey: a.signKey, fingerprint: a.fingerprint, code: a.code, pinnedAt: a.pinnedAt, via: a.via, ...(a.replacedAt === undefined ? {} : { replacedAt: a.replacedAt }) };
}

function vaultInfoOf(v: Vault): HandlerResultOf<'vault:create'>['info'] {
  const i = v.info;
  return { name: i.name, createdAt: i.createdAt, signKey: i.signKey, ageRecipient: i.ageRecipient, fingerprint: i.fingerprint, code: i.code };
}

export const vaultHandlers = {
  // -- app ------------------------------------------------------------------------------------------
  'app:info': (_req, ctx) => Promise.resolve({ name: 'Custos' as const, version: ctx.host.app.version, protocolVersion: PROTOCOL_VERSION, platform: ctx.host.app.platform, languages: [...LANGUAGES] }),
  // dispatch() already restarted the auto-lock timer: this channel exists for that alone.
  'app:activity': () => Promise.resolve({}),

  // -- vault --------------------------------------------------------------------------------------
  'vault:status': async (_req, ctx) => {
    const v = await ctx.vaultIfExists();
    const settings = await ctx.settings();
    if (v === null) return { exists: false, unlocked: false, info: null, unlockDelayMs: 0, agent: null, counts: null, autoLockMinutes: settings.autoLockMinutes };
    const unlocked = v.unlocked;
    let counts: HandlerResultOf<'vault:status'>['counts'] = null;
    if (unlocked) {
      const c: Record<ShareStatus, number> = { received: 0, confirmed: 0, exported: 0, superseded: 0, deleted: 0 };
      for (const s of v.state.shares) c[s.status]++;
      counts = { ...c, refused: v.state.refusals.length };
    }
    return {
      exists: true,
      unlocked,
      info: vaultInfoOf(v),
      unlockDelayMs: unlocked ? 0 : Math.ceil(await v.unlockDelayMs()),
      agent: unlocked && v.state.agent !== null ? agentView(v.state.agent) : null,
      counts,
      autoLockMinutes: settings.autoLockMinutes,
    };
  },
  'vault:create': async (req, ctx) => {
    if ((await ctx.vaultIfExists()) !== null) throw new ServiceError('VAULT_EXISTS', 'A vault already exists for this profile.');
    if (req.opId !== undefined) ctx.progress({ opId: req.opId, channel: 'vault:create', phase: 'deriving', done: 0, total: 0 }, true);
    const v = await Vault.create(ctx.host.vaultDir, { name: req.name, passphrase: req.passphrase }, { ...ctx.host.vaultOptions, ...ctx.host.createOptions });
    ctx.adoptVault(v);
    await ctx.startAutoLock();
    const card = new Uint8Array(await fsp.readFile(v.path('card')));
    if (req.opId !== undefined) ctx.progress({ opId: req.opId, channel: 'vault:create', phase: 'deriving', done: 1, total: 1 }, true);
    return { info: vaultInfoOf(v), card: fileOut(`enrollment-card-${v.info.name}`, '.custos', card), qr: await qrFor('custodian-card', card) };
  },
  'vault:unlock': async (req, ctx) => {
    const v = await ctx.vault();
    const wait = Math.ceil(await v.unlockDelayMs());
    const opId = req.opId;
    if (opId !== undefined && wait > 0) ctx.progress({ opId, channel: 'vault:unlock', phase: 'waiting', done: 0, total: 0, waitMs: wait }, true);
    // Then `deriving` (the KDF, in the unlock worker) and `reading` (record files done of total), from the vault itself;
    // the phase changes and the first file are sent at once (not throttled), so the bar never shows a stale phase.
    const r = await v.unlock(req.passphrase, opId === undefined ? {} : { onProgress: (p) => { ctx.progress({ opId, channel: 'vault:unlock', ...p }, p.phase === 'deriving' || p.done <= 1); } });
    await ctx.startAutoLock();
    return { generation: r.generation, recoveredFromPrevious: r.recoveredFromPrevious, auditOk: r.auditOk };
  },
  'vault:lock': async (_req, ctx) => {
    await ctx.lock('request');
    return { locked: true as const };
  },
  'vault:changePassphrase': async (req, ctx) => {
    await (await ctx.unlocked()).changePassphrase(req.current, req.next);
    return {};
  },
  'vault:generatePassphrase': (req) => {
    const g = generatePassphrase(req.words);
    return Promise.resolve({ passphrase: g.passphrase, words: g.words, entropyBits: g.entropyBits });
  },
  'vault:checkPassphrase': async (req, ctx) => {
    const v = (await Vault.exists(ctx.host.vaultDir)) ? await ctx.vault() : undefined;
    const logN = v === undefined ? MIN_LOG_N : (await vaultKdfLogN(v.dir)) ?? MIN_LOG_N;
    const s = await passphraseStrength(req.passphrase, logN, [req.name ?? v?.info.name ?? '']);
    return { ok: s.ok, score: s.score, logN: s.logN, guessTime: s.guessTime, guessSeconds: Math.min(s.guessSeconds, Number.MAX_VALUE), reasons: [...s.reasons], suggestions: [...s.suggestions] };
  },
  'vault:card': async (_req, ctx) => {
    const v = await ctx.vault();
    const card = v.unlocked ? v.card() : new Uint8Array(await fsp.readFile(v.path('card')));
    return { card: fileOut(`enrollment-card-${v.info.name}`, '.custos', card), qr: await qrFor('custodian-card', card), code: v.info.code, fingerprint: v.info.fingerprint };
  },

  // -- trust --------------------------------------------------------------------------------------
  'trust:previewAgent': (req) => Promise.resolve(previewAgentCard(req.card.bytes)),
  'trust:pin': async (req, ctx) => pinAgent(await ctx.unlocked(), req.card.bytes, req.confirmCode),
  'trust:rotate': async (req, ctx) => applyAgentKeyRotation(await ctx.unlocked(), req.notice.bytes),
  'trust:status': async (_req, ctx) => {
    const v = await ctx.unlocked();
    return { agent: v.state.agent === null ? null : agentView(v.state.agent), previous: v.state.previousAgents.map(agentView) };
  },

  // -- settings -----------------------------------------------------------------------------------
  'settings:get': async (_req, ctx) => {
    const r = await readSettingsOrDefaults(ctx.settingsPath);
    return { settings: r.settings, ...(r.problem === undefined ? {} : { problem: toIpcError(r.problem) }) };
  },
  'settings:set': async (req, ctx) => {
    await fsp.mkdir(ctx.host.vaultDir, { recursive: true, mode: 0o700 });
    const next = await updateSettings(ctx.settingsPath, req.change);
    ctx.settingsChanged(next);
    return { settings: next };
  },
} satisfies HandlersFor<'app' | 'vault' | 'trust' | 'settings'>;
