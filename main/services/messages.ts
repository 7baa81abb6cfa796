/**
 * Every refusal code as a sentence a person can act on, in English and Simplified Chinese.
 *
 * One table for the protocol codes (shared/errors.ts) and the app's own codes (errors.ts), typed so
 * a new code cannot be added without both sentences. Pure TypeScript (no Node, no DOM): the renderer
 * imports this file as is. Sentences may name `{placeholders}` filled from an error's non-secret
 * details; a missing value leaves the sentence readable ("…").
 */
import type { ErrorDetails } from '../../shared/errors';
import { codeOf, isCodedError, type AnyErrorCode } from './errors';

import { LANGUAGES, type Language } from '../../shared/languages';

export { LANGUAGES, type Language };

export interface Sentence {
  readonly en: string;
  readonly 'zh-CN': string;
}

export const MESSAGES: Readonly<Record<AnyErrorCode, Sentence>> = {
  // Protocol codes (shared/errors.ts).
  MALFORMED: {
    en: 'This file is damaged or is not a Custos file.',
    'zh-CN': '该文件已损坏或不是 Custos 文件。',
  },
  VERSION_UNSUPPORTED: {
    en: 'This file uses a Custos protocol version this app cannot read. Update Custos on the older side.',
    'zh-CN': '该文件使用了本应用无法读取的 Custos 协议版本。请更新较旧一方的 Custos。',
  },
  WRONG_TYPE: {
    en: 'This is a different kind of Custos file than expected here.',
    'zh-CN': '该文件的类型与此处所需的 Custos 文件类型不符。',
  },
  SIGNATURE_INVALID: {
    en: 'The signature does not verify: the file was changed after signing. Do not use it, and do not ask its sender for another copy: report it to security.',
    'zh-CN': '签名验证失败：文件在签名后被改动过。请勿使用，也不要向其发送方索要新副本：请报告安全团队。',
  },
  UNTRUSTED_SIGNER: {
    en: 'This file was signed by a key you have not pinned. Compare the agent\'s fingerprint code with ops before going on.',
    'zh-CN': '该文件的签名密钥不是您已固定信任的密钥。请先与运维核对代理的指纹校验码。',
  },
  WRONG_RECIPIENT: {
    en: 'This file is addressed to another custodian. Do not keep it; tell the agent operator.',
    'zh-CN': '该文件是发给另一位托管人的。请勿保留，并告知代理运维人员。',
  },
  EXPIRED: {
    en: 'This file has expired. Ask the agent operator for a new one.',
    'zh-CN': '该文件已过期。请向代理运维人员索取新的文件。',
  },
  NOT_YET_VALID: {
    en: 'This file is dated in the future. Check this computer\'s clock.',
    'zh-CN': '该文件的日期在未来。请检查本机时钟。',
  },
  SET_MISMATCH: {
    en: 'This belongs to a different key, node or backup set than expected.',
    'zh-CN': '该内容属于另一个密钥、节点或备份集，与预期不符。',
  },
  SESSION_MISMATCH: {
    en: 'This was made for a different recovery session or challenge.',
    'zh-CN': '该内容是为另一个恢复会话或盘点挑战生成的。',
  },
  SHARE_COMMITMENT_MISMATCH: {
    en: 'The share does not match its commitment in the signed manifest: it is damaged or not the share that was issued. Do not keep it.',
    'zh-CN': '分片与已签名清单中的承诺值不符：分片已损坏或并非签发的分片。请勿保留。',
  },
  SECRET_COMMITMENT_MISMATCH: {
    en: 'The shares combined into a value that does not match the backup. Nothing was written.',
    'zh-CN': '分片合成的结果与备份不符，未写入任何内容。',
  },
  BELOW_THRESHOLD: {
    en: 'Not enough valid shares yet to reach the threshold.',
    'zh-CN': '有效分片数量尚未达到阈值。',
  },
  DUPLICATE_SHARE: {
    en: 'You already hold this share (same key, node, backup set and share index) from another envelope.',
    'zh-CN': '您已从另一个信封中持有该分片（相同的密钥、节点、备份集和分片序号）。',
  },
  DUPLICATE_APPROVER: {
    en: 'The same approver signed twice; two different people must approve.',
    'zh-CN': '同一审批人签署了两次；必须由两位不同的人审批。',
  },
  APPROVAL_REQUIRED: {
    en: 'The recovery request does not carry the approvals it needs from different approvers.',
    'zh-CN': '该恢复请求缺少所需的、来自不同审批人的审批。',
  },
  INVALID_PARAMETERS: {
    en: 'A value given to Custos is not valid.',
    'zh-CN': '提供给 Custos 的某个值无效。',
  },
  DECRYPT_FAILED: {
    en: 'The sealed share could not be decrypted with your identity: it was sealed to someone else or it is damaged.',
    'zh-CN': '无法用您的身份密钥解密该加密分片：它是加密给其他人的，或已损坏。',
  },
  FRAME_MISMATCH: {
    en: 'This QR frame belongs to another message. Scan one code sequence at a time, or start over.',
    'zh-CN': '该二维码帧属于另一条消息。请一次只扫描一组二维码，或重新开始。',
  },
  INCOMPLETE: {
    en: 'Not all QR frames are in yet; keep scanning.',
    'zh-CN': '二维码帧尚未全部收到，请继续扫描。',
  },
  TOO_LARGE: {
    en: 'This file is larger than Custos accepts.',
    'zh-CN': '该文件超出 Custos 可接受的大小。',
  },
  KEYDATA_INVALID: {
    en: 'The key data is not valid.',
    'zh-CN': '密钥数据无效。',
  },
  SELF_CHECK_FAILED: {
    en: 'The recovered key data failed its self-check.',
    'zh-CN': '恢复出的密钥数据未通过自检。',
  },
  // The app's own codes (errors.ts).
  VAULT_EXISTS: {
    en: 'A vault already exists in this folder. Open it, or choose another folder.',
    'zh-CN': '该文件夹中已存在保险库。请打开它，或选择其他文件夹。',
  },
  VAULT_NOT_FOUND: {
    en: 'There is no complete vault in this folder. Check the folder, or create a vault.',
    'zh-CN': '该文件夹中没有完整的保险库。请检查文件夹，或新建保险库。',
  },
  VAULT_CORRUPT: {
    en: 'The vault files are damaged and no earlier copy could be read. Restore the vault folder from a backup.',
    'zh-CN': '保险库文件已损坏，且无法读取更早的副本。请从备份恢复保险库文件夹。',
  },
  VAULT_LOCKED: {
    en: 'The vault is locked. Unlock it with your passphrase first.',
    'zh-CN': '保险库已锁定。请先用口令解锁。',
  },
  WRONG_PASSPHRASE: {
    en: 'The passphrase is wrong. Wait {delaySeconds} s before the next try; each wrong try makes the wait longer.',
    'zh-CN': '口令错误。请等待 {delaySeconds} 秒后再试；每次输错都会延长等待时间。',
  },
  WEAK_PASSPHRASE: {
    en: 'The passphrase is too short or too easy to guess (at least {min} characters, and years of guessing even for an attacker with the vault files). Use five or more random words: Custos can generate them.',
    'zh-CN': '口令太短或太容易被猜中（至少 {min} 个字符，且即使攻击者拿到保险库文件也要猜很多年）。请使用五个或更多随机单词：Custos 可以为您生成。',
  },
  WEAK_KDF: {
    en: 'The key-derivation work factor asked for is below the safe minimum.',
    'zh-CN': '所要求的密钥派生强度低于安全下限。',
  },
  NOT_PINNED: {
    en: 'No agent is trusted yet. Import the agent\'s card and compare its fingerprint code with ops first.',
    'zh-CN': '尚未信任任何代理。请先导入代理名片，并与运维核对其指纹校验码。',
  },
  AGENT_ALREADY_PINNED: {
    en: 'Another agent key is already trusted. A new agent key is accepted only through a replacement notice signed by the trusted key.',
    'zh-CN': '已信任另一个代理密钥。新的代理密钥只能通过由已信任密钥签名的更换通知来接受。',
  },
  CODE_MISMATCH: {
    en: 'The comparison code you entered does not match this card. Do not trust it; call ops again.',
    'zh-CN': '您输入的校验码与该名片不符。请勿信任，并再次联系运维。',
  },
  DUPLICATE_ENVELOPE: {
    en: 'This envelope is already in your vault. Nothing was changed.',
    'zh-CN': '该信封已在您的保险库中，未做任何更改。',
  },
  CONFLICTING_SET: {
    en: 'You hold an active share from another backup set of the same key and node (epoch {heldEpoch}). Apply the agent\'s supersede notice first, or ask the operator.',
    'zh-CN': '您持有同一密钥和节点的另一个有效备份集的分片（纪元 {heldEpoch}）。请先应用代理的替换通知，或询问运维人员。',
  },
  SET_SUPERSEDED: {
    en: 'This envelope belongs to a backup set the agent has replaced. Do not keep it.',
    'zh-CN': '该信封属于代理已替换的备份集。请勿保留。',
  },
  ALREADY_DESTROYED: {
    en: 'You held this share before and it has been destroyed. Ask the operator before keeping it again.',
    'zh-CN': '您曾持有该分片，且它已被销毁。再次保留前请先询问运维人员。',
  },
  NOT_FOUND: {
    en: 'Nothing in the vault matches that id.',
    'zh-CN': '保险库中没有与该标识匹配的内容。',
  },
  AMBIGUOUS_ID: {
    en: 'That id prefix matches more than one record; type more characters.',
    'zh-CN': '该标识前缀匹配到多条记录；请输入更多字符。',
  },
  INVALID_STATE: {
    en: 'This cannot be done to the share in its current state.',
    'zh-CN': '该分片在当前状态下无法执行此操作。',
  },
  CONFIRMATION_REQUIRED: {
    en: 'This needs your deliberate confirmation of exactly these details.',
    'zh-CN': '此操作需要您明确确认以上这些细节。',
  },
  NO_MATCHING_SHARE: {
    en: 'Your vault holds no usable share for this request.',
    'zh-CN': '您的保险库中没有可用于此请求的分片。',
  },
  SETTINGS_INVALID: {
    en: 'A setting is not valid.',
    'zh-CN': '某项设置无效。',
  },
  IO_FAILED: {
    en: 'A file could not be read or written. Check the folder, its permissions and the free disk space.',
    'zh-CN': '无法读取或写入文件。请检查文件夹、权限以及磁盘剩余空间。',
  },
  USAGE: {
    en: 'The command was not called the right way.',
    'zh-CN': '命令的调用方式不正确。',
  },
  AGENT_NOT_LINKED: {
    en: 'No agent is linked, so Custos sends nothing over the network. Set the agent URL (and its API token) in Settings first.',
    'zh-CN': '尚未关联代理，因此 Custos 不会通过网络发送任何内容。请先在设置中填写代理地址（及其 API 令牌）。',
  },
  AGENT_UNREACHABLE: {
    en: 'The linked agent could not be reached. Check the agent URL, the network and that the agent is running, then try again; nothing was changed.',
    'zh-CN': '无法连接已关联的代理。请检查代理地址、网络以及代理是否正在运行，然后重试；未做任何更改。',
  },
  AGENT_REFUSED: {
    en: 'The agent refused this ({agentCode}). Read the details, fix the cause with the agent operator, and try again.',
    'zh-CN': '代理拒绝了此操作（{agentCode}）。请查看详情，与代理运维人员排除原因后重试。',
  },
  // Issue 13 (H12): the agent link's token.
  AGENT_TOKEN_REJECTED: {
    en: 'The agent refused this token ({agentCode}): ask ops for a recovery token with the station scope ("recover"; "deliver" too to send receipts). Nothing was sent.',
    'zh-CN': '代理拒绝了此令牌：请向运维索取具有恢复站权限的恢复令牌（如需发送回执，另需投递权限）。未发送任何内容。',
  },
  AGENT_TOKEN_INVALID: {
    en: 'This is not an agent API token: paste the whole token from the file ops gave you (printable characters without spaces, at least 16).',
    'zh-CN': '这不是代理 API 令牌：请粘贴运维提供的令牌文件中的完整令牌（不含空格的可打印字符，至少 16 个）。',
  },
  APPROVER_KEY_CHANGED: {
    en: 'An approver of this name is already trusted with another key. Call them at the contact you recorded before trusting a new key; do not trust it on the strength of this card alone.',
    'zh-CN': '已信任同名审批人的另一个密钥。在信任新密钥之前，请按您记录的联系方式致电本人核实；不要仅凭这张名片就信任它。',
  },
  APPROVERS_UNVERIFIED: {
    en: 'Fewer than two approvals of this request come from approvers you trusted. Call the approvers and the agent operator at the recorded contacts. Export only with a written reason for overriding.',
    'zh-CN': '此请求中来自您已信任审批人的审批少于两个。请按记录的联系方式致电审批人和代理运维。只有写明越过此检查的理由后才能导出。',
  },
  ROSTER_ROLLBACK: {
    en: 'This approver roster is not newer than the one you trusted (version {have}), so it could be an old roster replayed. Keep the trusted one and ask ops for the current roster.',
    'zh-CN': '此审批人名单并不比您已信任的名单（版本 {have}）更新，可能是被重放的旧名单。请保留已信任的名单，并向运维索取当前名单。',
  },
  INTERNAL: {
    en: 'Custos failed with an internal error; the details are in its log.',
    'zh-CN': 'Custos 发生内部错误；详情见日志。',
  },
};

/** Share statuses as words, for lists and filters. */
export const STATUS_LABELS: Readonly<Record<'received' | 'confirmed' | 'exported' | 'superseded' | 'deleted', Sentence>> = {
  received: { en: 'received', 'zh-CN': '已接收' },
  confirmed: { en: 'confirmed', 'zh-CN': '已确认' },
  exported: { en: 'exported', 'zh-CN': '已导出' },
  superseded: { en: 'superseded', 'zh-CN': '已被替换' },
  deleted: { en: 'deleted (cooling period)', 'zh-CN': '已删除（冷却期）' },
};

function fill(template: string, details: ErrorDetails): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (_m, name: string) => {
    const v = details[name];
    if (v === undefined) return '…';
    return Array.isArray(v) ? v.join(', ') : String(v);
  });
}

/** The sentence for `code` in `language`, with placeholders filled from `details`. */
export function sentence(code: AnyErrorCode, language: Language, details: ErrorDetails = {}): string {
  return fill(MESSAGES[code][language], details);
}

/** Both sentences for `code`. */
export function sentences(code: AnyErrorCode, details: ErrorDetails = {}): Sentence {
  return { en: sentence(code, 'en', details), 'zh-CN': sentence(code, 'zh-CN', details) };
}

export interface Explained {
  readonly code: AnyErrorCode;
  /** The table's sentence in both languages. */
  readonly message: Sentence;
  /** The specific English sentence of the error itself (names the field, index, file…), when coded. */
  readonly detail?: string;
  readonly details: ErrorDetails;
}

/** Turns anything thrown into a code and two sentences; an uncoded error becomes INTERNAL. */
export function explain(error: unknown): Explained {
  const code = codeOf(error);
  const details = isCodedError(error) ? error.details : {};
  return {
    code,
    message: sentences(code, details),
    details,
    ...(isCodedError(error) ? { detail: error.message } : {}),
  };
}
