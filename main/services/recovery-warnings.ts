/**
 * The warnings of a recovery review (issue 12): the requests social engineering uses against a
 * custodian under pressure, each with what to do and whom to call back (the contact recorded when
 * the agent or the approver was pinned). Non-blocking, except that the approvals' own verdicts
 * decide whether an override is needed (recovery.ts).
 *
 * - exported-other-session: the share already left for another recovery session. A second request
 *   for a share already exported is the classic pattern (an attacker collects shares one incident
 *   at a time).
 * - exported-this-session: exported for this very session before (a repeat, usually harmless).
 * - superseded: the share belongs to a set the agent replaced.
 * - short-expiry: less time left than the custodian's policy minimum (pressure to act fast).
 * - mixed-mode: the request uses the server's shares too while the policy expects external-only.
 * - agent-rotated: the agent key changed since the share was received.
 * - approver-key-changed: an approval under a pinned approver's name, by another key.
 * - approvers-unverified: fewer than two approvals by pinned approvers.
 *
 * Sentences in English and Simplified Chinese for the CLI (`recovery show`); the screen has the same
 * sentences in its catalogs under `recWarn_<code>` / `recWarnDo_<code>`, filled from `params`.
 */
import { fromHex, toHex } from '../../shared/bytes';
import { agentFingerprint, comparisonCode } from '../../shared/protocol/identity';
import type { OpenedRecoveryRequest } from '../../shared/protocol/recovery-request';
import { MIN_APPROVALS } from '../../shared/protocol/recovery-request';
import type { Language } from '../../shared/languages';
import type { CallBackContact, PinnedAgent, ShareRecord } from './state';

/** The custodian's recovery policy (settings.ts). */
export interface RecoveryPolicy {
  /** Warn when a request has less time left than this, in minutes. */
  readonly minExpiryMinutes: number;
  /** `external-only`: warn on a mixed-mode request. */
  readonly expectMode: 'any' | 'external-only';
}

export const DEFAULT_RECOVERY_POLICY: RecoveryPolicy = { minExpiryMinutes: 60, expectMode: 'any' };

export const WARNING_CODES = [
  'exported-other-session',
  'exported-this-session',
  'superseded',
  'short-expiry',
  'mixed-mode',
  'agent-rotated',
  'approver-key-changed',
  'approvers-unverified',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

type Sentence = Readonly<Record<Language, string>>;

export interface RecoveryWarning {
  readonly code: WarningCode;
  /** Filled into the sentences (and the screen's catalog entries). */
  readonly params: Readonly<Record<string, string | number>>;
  readonly message: Sentence;
  /** What to do. */
  readonly advice: Sentence;
  /** Whom to call back, when a contact was recorded (the agent's, or the approver's). */
  readonly contact?: CallBackContact;
}

const TEXT: Readonly<Record<WarningCode, { message: Sentence; advice: Sentence }>> = {
  'exported-other-session': {
    message: {
      en: 'This share was already exported for another recovery session ({sessions}: incident {incidents}). A second request for a share already given out is how an attacker collects shares.',
      'zh-CN': '此分片已为另一个恢复会话导出过（{sessions} 次：事件 {incidents}）。再次索取已交出的分片，正是攻击者收集分片的手法。',
    },
    advice: {
      en: 'Do not export until you have called the agent operator yourself and they confirmed why another session needs this share.',
      'zh-CN': '在您亲自致电代理运维、并确认为何另一个会话还需要此分片之前，请勿导出。',
    },
  },
  'exported-this-session': {
    message: {
      en: 'This share was already exported for this session ({count} time(s)).',
      'zh-CN': '此分片已为本会话导出过（{count} 次）。',
    },
    advice: {
      en: 'Usually a lost file: export again only if ops say the earlier export did not arrive.',
      'zh-CN': '通常是文件丢失：只有运维确认之前的导出未送达时才再次导出。',
    },
  },
  superseded: {
    message: {
      en: 'This share belongs to a backup set the agent has superseded.',
      'zh-CN': '此分片所属的备份集已被代理替换。',
    },
    advice: {
      en: 'Ask the agent operator why the old set is needed instead of the current one before exporting.',
      'zh-CN': '导出前请询问代理运维，为何需要旧备份集而不是当前备份集。',
    },
  },
  'short-expiry': {
    message: {
      en: 'This request expires in {minutes} minute(s), less than your minimum of {min} minutes. Pressure to act fast is a sign of social engineering.',
      'zh-CN': '此请求将在 {minutes} 分钟后过期，短于您设定的最少 {min} 分钟。催促尽快操作是社会工程攻击的迹象。',
    },
    advice: {
      en: 'Take the time to call back first; if it expires, ops can open a new session.',
      'zh-CN': '请先花时间回电核实；即使过期，运维也可以重新开启会话。',
    },
  },
  'mixed-mode': {
    message: {
      en: 'This request is in mixed mode (the server’s own shares are used too), but your policy expects external-only recovery.',
      'zh-CN': '此请求为混合模式（也会使用服务器自己的分片），但您的策略要求仅使用外部分片恢复。',
    },
    advice: {
      en: 'Confirm with the agent operator why mixed mode is used; mixed mode means fewer custodians are needed.',
      'zh-CN': '请与代理运维确认为何使用混合模式；混合模式意味着需要的保管人更少。',
    },
  },
  'agent-rotated': {
    message: {
      en: 'The agent’s key was replaced since you received this share (the envelope came from code {then}, this request from code {now}).',
      'zh-CN': '自您收到此分片以来，代理密钥已被更换（信封来自校验码 {then}，此请求来自校验码 {now}）。',
    },
    advice: {
      en: 'Confirm the key replacement with the agent operator over the phone before exporting.',
      'zh-CN': '导出前请电话向代理运维确认此次密钥更换。',
    },
  },
  'approver-key-changed': {
    message: {
      en: 'The approval by "{name}" is signed with another key (code {code}) than the one you trusted for {pinnedName} (code {pinnedCode}).',
      'zh-CN': '“{name}”的审批使用了另一个密钥（校验码 {code}），而不是您为 {pinnedName} 信任的密钥（校验码 {pinnedCode}）。',
    },
    advice: {
      en: 'Call this approver at the recorded contact; treat the approval as forged until they confirm a new key.',
      'zh-CN': '请按记录的联系方式致电该审批人；在其确认新密钥之前，视该审批为伪造。',
    },
  },
  'approvers-unverified': {
    message: {
      en: 'Only {verified} of the {need} approvals needed come from approvers you trusted.',
      'zh-CN': '所需的 {need} 个审批中只有 {verified} 个来自您已信任的审批人。',
    },
    advice: {
      en: 'Call the approvers and the agent operator. Export only if they confirm, with a written reason for the override.',
      'zh-CN': '请致电审批人和代理运维。只有在他们确认后，才写明越过检查的理由并导出。',
    },
  },
};

const fill = (template: string, params: Readonly<Record<string, string | number>>): string =>
  template.replace(/\{([A-Za-z]+)\}/g, (m, name: string) => (params[name] === undefined ? m : String(params[name])));

function warning(code: WarningCode, params: Record<string, string | number>, contact: CallBackContact | undefined): RecoveryWarning {
  const t = TEXT[code];
  return {
    code,
    params,
    message: { en: fill(t.message.en, params), 'zh-CN': fill(t.message['zh-CN'], params) },
    advice: { en: fill(t.advice.en, params), 'zh-CN': fill(t.advice['zh-CN'], params) },
    ...(contact === undefined ? {} : { contact }),
  };
}

export interface WarningInput {
  readonly req: OpenedRecoveryRequest;
  readonly record: ShareRecord | undefined;
  readonly agent: PinnedAgent | null;
  readonly approvals: readonly { readonly name: string; readonly code: string; readonly fingerprint: string; readonly verdict: string; readonly pinned?: { readonly name: string; readonly code: string }; readonly contact?: CallBackContact }[];
  readonly now: number;
  readonly policy: RecoveryPolicy;
}

/** The warnings of one request, most serious first. */
export function recoveryWarnings(w: WarningInput): RecoveryWarning[] {
  const out: RecoveryWarning[] = [];
  const ops = w.agent?.contact;
  const session = toHex(w.req.session.session_id);
  for (const a of w.approvals) {
    if (a.verdict === 'changed-key' && a.pinned !== undefined) {
      out.push(warning('approver-key-changed', { name: a.name, code: a.code, pinnedName: a.pinned.name, pinnedCode: a.pinned.code }, a.contact));
    }
  }
  const verified = new Set(w.approvals.filter((a) => a.verdict === 'verified').map((a) => a.fingerprint)).size;
  if (verified < MIN_APPROVALS) out.push(warning('approvers-unverified', { verified, need: MIN_APPROVALS }, ops));
  const r = w.record;
  if (r !== undefined) {
    const others = r.exports.filter((e) => e.sessionId !== session);
    if (others.length > 0) {
      const incidents = [...new Set(others.map((e) => e.incidentId))].join(', ');
      out.push(warning('exported-other-session', { sessions: others.length, incidents }, ops));
    }
    const same = r.exports.length - others.length;
    if (same > 0) out.push(warning('exported-this-session', { count: same }, ops));
    if (w.agent !== null && r.agentKey !== w.agent.signKey) {
      out.push(warning('agent-rotated', { then: comparisonCode(agentFingerprint(fromHex(r.agentKey))), now: w.agent.code }, ops));
    }
    if (r.status === 'superseded') out.push(warning('superseded', {}, ops));
  }
  const minutes = Math.max(0, Math.floor((w.req.session.not_after - w.now) / 60));
  if (minutes < w.policy.minExpiryMinutes) out.push(warning('short-expiry', { minutes, min: w.policy.minExpiryMinutes }, ops));
  if (w.req.session.mode === 'mixed' && w.policy.expectMode === 'external-only') out.push(warning('mixed-mode', {}, ops));
  return out;
}
