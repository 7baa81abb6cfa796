/**
 * `inventory answer`: proof of possession for an agent's inventory challenge (custodian CLI).
 * Issue 12: without --confirm it only shows what the challenge asks, which agent asks and until
 * when (exit 1, CONFIRMATION_REQUIRED, nothing signed); with --confirm it signs that challenge.
 */
import { resolve } from 'node:path';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import type { Language } from '../../shared/languages';
import { ServiceError } from '../services/errors';
import { answerChallenge, reviewChallenge, writeAttestation, type InventoryReview } from '../services/inventory';
import { command, language, need, openUnlocked } from './common';

const LOCAL: Readonly<Record<Language, Readonly<Record<InventoryReview['items'][number]['local'], string>>>> = {
  en: { held: 'held', 'not-held': 'never received', deleted: 'deleted' },
  'zh-CN': { held: '持有', 'not-held': '从未收到', deleted: '已删除' },
};

const iso = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** What the person checks before signing: the agent, the expiry, every item and its state here. */
export function reviewLines(r: InventoryReview, lang: Language): string[] {
  const zh = lang === 'zh-CN';
  return [
    zh ? `盘点挑战 ${r.challengeId}` : `Inventory challenge ${r.challengeId}`,
    zh ? `  发起方（已固定的代理）：${r.agent.name}，校验码 ${r.agent.code}` : `  asked by the pinned agent: ${r.agent.name}, comparison code ${r.agent.code}`,
    zh ? `  签发 ${iso(r.createdAt)}，到期 ${iso(r.notAfter)}` : `  issued ${iso(r.createdAt)}, expires ${iso(r.notAfter)}`,
    zh ? `  询问 ${String(r.items.length)} 个分片，本保险库持有 ${String(r.held)} 个：` : `  ${String(r.items.length)} share(s) asked, ${String(r.held)} held in this vault:`,
    ...r.items.map((i) => `    ${i.keyId}/${i.nodeId} set ${i.setId.slice(0, 8)}… epoch ${String(i.epoch)} share ${String(i.shareIndex)}: ${LOCAL[lang][i.local]}`),
  ];
}

const answer = command(
  { challenge: { type: 'string' }, out: { type: 'string' }, confirm: { type: 'boolean' } },
  {
    name: 'inventory answer',
    usage: '--vault DIR --challenge FILE --confirm --out FILE',
    summary: 'a signed attestation: which challenged shares are held, with a proof for each (after review: --confirm)',
    run: async (ctx) => {
      const challenge = readInput(need(ctx.values.challenge, 'challenge'), 'inventory challenge');
      const out = resolve(need(ctx.values.out, 'out'));
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const review = reviewChallenge(v, challenge);
      if (ctx.values.confirm !== true) {
        throw new ServiceError(
          'CONFIRMATION_REQUIRED',
          `${reviewLines(review, lang).join('\n')}\n${lang === 'zh-CN' ? '请核对以上内容；要签署此盘点答复，请加 --confirm 再运行一次。' : 'Review these details; to sign the answer to this challenge, run again with --confirm.'}`,
        );
      }
      const a = await answerChallenge(v, challenge, review.challengeHash);
      await writeAttestation(a, out);
      return {
        data: {
          attestation: out,
          hash: a.hash,
          held: a.held,
          missing: a.missing,
          agent: review.agent,
          notAfter: review.notAfter,
          items: a.items.map((i) => ({ keyId: i.key_id, nodeId: i.node_id, setId: i.setIdHex, epoch: i.epoch, shareIndex: i.share_index, answer: i.answer, local: i.local })),
        },
        lines: [
          ...reviewLines(review, lang).slice(0, 3),
          ...a.items.map((i) => `${i.answer.padEnd(7)} ${i.key_id}/${i.node_id} share ${String(i.share_index)}${i.local === 'damaged' ? ' (damaged here!)' : ''}`),
          `Attestation written to ${out}: ${String(a.held)} held, ${String(a.missing)} missing.`,
        ],
      };
    },
  },
);

export const inventoryGroup: Group = { name: 'inventory', summary: "answers to the agent's inventory challenges", commands: [answer] };
