// The custodian CLI in Simplified Chinese (issue 13, "Language"): its catalogs
// (main/cli/locales/<lang>.json) have the same keys and arguments in both languages and a summary
// for every command of the table, en.json says what the table says; and with --lang zh-CN, or the
// vault's language setting, `--help` (program, group, command), `list`, `recovery show` and the
// summary lines of the commands run here print no English word (ids, file names, codes, option
// names and hex allowed), while the wrong-passphrase error keeps an English line under it.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import { custodianFingerprint, openCustodianCard } from '../../shared/protocol';
import { CUSTODIAN_PROGRAM, main } from '../../main/cli';
import { spawnSync } from 'node:child_process';
import { auditVerdictLine } from '../../main/cli/audit';
import { nextEntry, verifyChain, type AuditEntry } from '../../shared/audit/chain';
import { makeAgent, makeSet, recoveryRequest, tempDir, testApproverCards } from './helpers';

const ROOT = join(import.meta.dirname, '..', '..');
const LANGS = ['en', 'zh-CN'] as const;
const catalog = (lang: string): Record<string, string> => JSON.parse(readFileSync(join(ROOT, 'main/cli/locales', `${lang}.json`), 'utf8')) as Record<string, string>;
const catalogs = { en: catalog('en'), 'zh-CN': catalog('zh-CN') };
const PASS = 'a long cli language passphrase';
const ENV = { CUSTOS_INSECURE_SCRYPT_LOGN: '10', CUSTOS_PASSPHRASE: PASS };

async function custos(argv: readonly string[], env: Record<string, string> = ENV): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

/** Every command word of the table (typed as they are, in any language). */
const COMMAND_WORDS = new Set(CUSTODIAN_PROGRAM.groups.flatMap((g) => [g.name, ...g.commands.flatMap((c) => c.name.split(' '))]));
/** Names, abbreviations and tools kept as they are in Chinese text; and the test's own data (names on cards, ids). */
const ALLOWED = new Set(['Custos', 'custos', 'npm', 'run', 'age', 'QR', 'UR', 'JSON', 'KDF', 'EFF', 'PNG', 'SVG', 'en', 'Alice', 'Bob', 'security', 'business', 'owner', 'Lin', 'Ops', 'agent', 'node']);

/** The English words left in `text` once the allowed tokens are taken out. */
function englishWords(text: string): string[] {
  const stripped = text
    .replace(/`[^`]*`/g, ' ') // a command to type, as it is typed
    .replace(/"[^"]*"/g, ' ') // a value in quotes, as it is typed
    .replace(/(^|\s)--?[a-z][a-z-]*/g, ' '); // option names
  return stripped
    .split(/[^A-Za-z0-9._\-:+/@]+/)
    .filter((w) => /[A-Za-z]/.test(w))
    .filter((w) => !/[0-9._\-:+/@]/.test(w)) // ids, file names, hex, codes with digits, paths
    .filter((w) => !/^[A-Z][A-Z_]*$/.test(w)) // codes and metavariables: USAGE, DIR, FILE, CUSTOS_PASSPHRASE
    .filter((w) => !COMMAND_WORDS.has(w) && !ALLOWED.has(w));
}

interface El {
  readonly type: number;
  readonly value?: unknown;
  readonly options?: Record<string, { readonly value: readonly El[] }>;
}
function argumentsOf(ast: readonly El[], into = new Set<string>()): Set<string> {
  for (const el of ast) {
    if ([1, 2, 3, 4, 5, 6].includes(el.type) && typeof el.value === 'string') into.add(el.value);
    for (const o of Object.values(el.options ?? {})) argumentsOf(o.value, into);
  }
  return into;
}

/** The literal text of a parsed message (what a reader sees around the arguments), every branch of a plural or select. */
function literalText(ast: readonly El[]): string {
  return ast.map((el) => (el.type === 0 && typeof el.value === 'string' ? el.value : ` ${Object.values(el.options ?? {}).map((o) => literalText(o.value)).join(' ')} `)).join('');
}

describe('custodian CLI catalogs', () => {
  it('every key in every language, the same arguments, plurals not "(s)"', () => {
    const en = Object.keys(catalogs.en).sort();
    for (const lang of LANGS) {
      const keys = Object.keys(catalogs[lang]).sort();
      expect(en.filter((k) => !keys.includes(k)), `keys missing from ${lang}.json`).toEqual([]);
      expect(keys.filter((k) => !en.includes(k)), `keys in ${lang}.json that en.json does not have`).toEqual([]);
    }
    const problems: string[] = [];
    for (const key of en) {
      const args = LANGS.map((l) => [...argumentsOf(new IntlMessageFormat(catalogs[l][key] ?? '', l, undefined, { ignoreTag: true }).getAst() as El[])].sort().join(','));
      if (args[0] !== args[1]) problems.push(`${key}: en {${args[0] ?? ''}} zh-CN {${args[1] ?? ''}}`);
      if (/\w\(s\)/.test(catalogs.en[key] ?? '')) problems.push(`${key}: "(s)" in English; use a plural`);
    }
    expect(problems).toEqual([]);
  });

  it('a summary for every group and command of the table in both catalogs; en.json is the table', () => {
    expect(catalogs.en['help.title']).toBe(CUSTODIAN_PROGRAM.title);
    expect(catalogs.en['help.footer']).toBe(CUSTODIAN_PROGRAM.footer);
    const missing: string[] = [];
    const wanted = new Set<string>();
    for (const g of CUSTODIAN_PROGRAM.groups) {
      wanted.add(`group.${g.name}`);
      expect(catalogs.en[`group.${g.name}`], `en.json group.${g.name}`).toBe(g.summary);
      for (const c of g.commands.filter((x) => x.hidden !== true)) {
        wanted.add(`cmd.${c.name}`);
        expect(catalogs.en[`cmd.${c.name}`], `en.json cmd.${c.name}`).toBe(c.summary);
        if (c.help !== undefined) {
          wanted.add(`cmdHelp.${c.name}`);
          expect(catalogs.en[`cmdHelp.${c.name}`]).toBe(c.help);
        }
      }
    }
    for (const k of wanted) for (const lang of LANGS) if (catalogs[lang][k] === undefined) missing.push(`${lang}: ${k}`);
    expect(missing).toEqual([]);
    const stale = Object.keys(catalogs.en).filter((k) => /^(group|cmd|cmdHelp)\./.test(k) && !wanted.has(k));
    expect(stale, 'catalog entries for commands that no longer exist').toEqual([]);
  });

  it('the zh-CN catalog has no English words', () => {
    const bad = Object.entries(catalogs['zh-CN'])
      .map(([k, v]) => [k, englishWords(literalText(new IntlMessageFormat(v, 'zh-CN', undefined, { ignoreTag: true }).getAst() as El[]))] as const)
      .filter(([, w]) => w.length > 0)
      .map(([k, w]) => `${k}: ${w.join(' ')}`);
    expect(bad).toEqual([]);
  });

  it('the check finds English: it is not a test that cannot fail', () => {
    expect(englishWords('共 3 个分片。')).toEqual([]);
    expect(englishWords('3 share(s) verified')).toEqual(['share', 's', 'verified']);
    expect(englishWords('用法：npm run custos -- list --vault DIR `recovery export ... --confirm`')).toEqual([]);
  });
});

describe('custodian CLI in Chinese', () => {
  it('help, list, recovery show and summary lines in zh-CN (by --lang and by the vault setting); the wrong passphrase keeps an English line', async () => {
    const work = tempDir();
    const vault = join(work, 'vault');
    const now = Math.floor(Date.now() / 1000);
    const zh = ['--lang', 'zh-CN'];
    const check = (what: string, text: string): void => {
      expect(text.trim(), what).not.toBe('');
      expect(text, `${what} has Chinese`).toMatch(/[\u4e00-\u9fff]/);
      expect(englishWords(text), `${what}:\n${text}`).toEqual([]);
    };

    // Help: the program, a group, commands.
    for (const argv of [['--help'], ['recovery', '--help'], ['recovery', 'show', '--help'], ['list', '--help'], ['import', '--help'], ['help', 'trust'], ['backup', '--help']]) {
      const r = await custos([...zh, ...argv]);
      expect(r.code, r.stderr).toBe(0);
      check(argv.join(' '), r.stdout);
    }
    const english = await custos(['--help']);
    expect(english.stdout).toContain('Commands:');
    expect(english.stdout).toContain('the shares held');

    const created = await custos(['vault', 'create', '--vault', vault, '--name', 'Lin', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const card = openCustodianCard(new Uint8Array(readFileSync((JSON.parse(created.stdout) as { card: string }).card)));
    const me = { fingerprint: custodianFingerprint(card.body.sign_key, card.body.age_recipient), ageRecipient: card.body.age_recipient };
    const agent = makeAgent();
    writeFileSync(join(work, 'agent-card.custos'), agent.card);
    expect((await custos(['pin-agent', '--vault', vault, '--card', join(work, 'agent-card.custos'), '--confirm-code', agent.code])).code).toBe(0);
    const inbox = join(work, 'inbox');
    mkdirSync(inbox);
    const sets = [await makeSet(agent.id, me, { keyId: 'key-0', now: now - 60 }), await makeSet(agent.id, me, { keyId: 'key-1', now: now - 60 })];
    sets.forEach((s, i) => { writeFileSync(join(inbox, `envelope-${String(i)}.custos`), s.envelope); });
    writeFileSync(join(inbox, 'damaged.custos'), sets[0]!.envelope.subarray(0, 100));
    for (const [i, a] of testApproverCards().entries()) {
      writeFileSync(join(work, `approver-${String(i)}.custos`), a.card);
      expect((await custos(['trust', 'approver', 'pin', '--vault', vault, '--card', join(work, `approver-${String(i)}.custos`), '--confirm-code', a.code])).code).toBe(0);
    }

    const imported = await custos([...zh, 'import', '--vault', vault, inbox]);
    expect(imported.code, imported.stderr).toBe(3);
    check('import', imported.stdout);
    expect(imported.stdout).toContain('接收 2 个，拒绝 1 个。');
    const listed = await custos([...zh, 'list', '--vault', vault]);
    expect(listed.code, listed.stderr).toBe(0);
    check('list', listed.stdout);
    expect(listed.stdout).toContain('共 2 个分片。');
    const verified = await custos([...zh, 'verify-all', '--vault', vault]);
    check('verify-all', verified.stdout);
    const receipts = await custos([...zh, 'receipt', '--vault', vault, '--all', '--status', 'accepted', '--out', join(work, 'receipts')]);
    expect(receipts.code, receipts.stderr).toBe(0);
    check('receipt', receipts.stdout);

    const session = await recoveryRequest(agent.id, sets[1]!, { now: now - 30, notAfter: now + 3600, incident: 'INC-ZH-1' });
    writeFileSync(join(work, 'request.custos'), session.request);
    const shown = await custos([...zh, 'recovery', 'show', '--vault', vault, '--request', join(work, 'request.custos')]);
    expect(shown.code, shown.stderr).toBe(0);
    check('recovery show', shown.stdout);
    expect(shown.stdout).toContain('事件 INC-ZH-1 的恢复请求');
    const exported = await custos([...zh, 'recovery', 'export', '--vault', vault, '--request', join(work, 'request.custos'), '--confirm', '--out', join(work, 'export')]);
    expect(exported.code, exported.stderr).toBe(0);
    check('recovery export', exported.stdout);
    const ids = (JSON.parse((await custos(['list', '--vault', vault, '--json'])).stdout) as { shares: { id: string }[] }).shares.map((s) => s.id);
    mkdirSync(join(work, 'usb'));
    for (const argv of [
      ['audit', 'verify'],
      ['purge'],
      ['vault', 'info'],
      ['card', '--out', join(work, 'card-again.custos')],
      ['backup', '--to', join(work, 'usb')],
      ['backup', 'status'],
      ['audit', 'export', '--out', join(work, 'audit.jsonl')],
      ['trust', 'contact', '--contact-name', 'Ops', '--contact-reach', '+1-555-0100'],
      ['trust', 'list'],
      ['delete', '--envelope-hash', ids[0] ?? ''],
      ['rollback', '--envelope-hash', ids[0] ?? ''],
      ['passphrase', 'generate'],
    ]) {
      const r = await custos([...zh, ...argv, '--vault', vault]);
      expect(r.code, r.stderr).toBe(0);
      // A generated passphrase is English words of the EFF list by design; the line under it is checked.
      check(argv.join(' '), argv[0] === 'passphrase' ? r.stdout.split('\n').slice(1).join('\n') : r.stdout);
    }

    // passphrase check: the policy's reasons and Intl's guessing time in Chinese (zxcvbn speaks English only).
    const weak = await custos([...zh, 'passphrase', 'check', '--vault', vault], { ...ENV, CUSTOS_PASSPHRASE: 'password' });
    expect(weak.code, weak.stderr).toBe(1);
    check('passphrase check (weak)', weak.stdout);
    expect(weak.stdout).toMatch(/^已拒绝：.*容易猜到的模式.*年。\n/);
    const strong = await custos([...zh, 'passphrase', 'check', '--vault', vault], { ...ENV, CUSTOS_PASSPHRASE: 'correct horse battery staple orbit lantern' });
    expect(strong.code, strong.stderr).toBe(0);
    check('passphrase check (strong)', strong.stdout);
    expect(strong.stdout).toMatch(/^已接受：.*年（KDF 成本 N = 2\^\d+）。\n$/);

    // settings show / set: one line per setting in the chosen language; --json keeps the file's fields.
    const shownZh = await custos([...zh, 'settings', 'show', '--vault', vault]);
    expect(shownZh.code, shownZh.stderr).toBe(0);
    check('settings show', shownZh.stdout);
    expect(shownZh.stdout).toMatch(/^语言：英语\n自动锁定：/);
    const setZh = await custos([...zh, 'settings', 'set', '--vault', vault, '--cooling-days', '9']);
    expect(setZh.code, setZh.stderr).toBe(0);
    check('settings set', setZh.stdout);
    expect(setZh.stdout).toContain('删除冷静期：9 天');
    expect((await custos(['--lang', 'en', 'settings', 'show', '--vault', vault])).stdout).toContain('Deletion cooling period: 9 days\n');
    const asJson = JSON.parse((await custos([...zh, '--json', 'settings', 'show', '--vault', vault])).stdout) as { settings: { deletionCoolingDays: number; language: string } };
    expect(asJson.settings).toMatchObject({ deletionCoolingDays: 9, language: 'en' });

    // The vault's language setting does the same without --lang, for help too.
    expect((await custos(['settings', 'set', '--vault', vault, '--language', 'zh-CN'])).code).toBe(0);
    const bySetting = await custos(['list', '--vault', vault]);
    check('list (vault setting)', bySetting.stdout);
    const helpBySetting = await custos(['--help'], { ...ENV, CUSTOS_VAULT: vault });
    check('--help (vault setting)', helpBySetting.stdout);
    // --lang wins over the setting.
    expect((await custos(['--lang', 'en', 'list', '--vault', vault])).stdout).toContain('2 shares.');

    // The real process: a wrong passphrase in Chinese, with the English sentence under it for a colleague or a search.
    const wrong = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['main/cli.ts', 'list', '--vault', vault], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1', CUSTOS_PASSPHRASE: 'not the passphrase at all' } });
    expect(wrong.status, wrong.stderr).toBe(1);
    const [first, second] = wrong.stderr.split('\n');
    expect(first).toMatch(/^error: 口令错误。.*\(WRONG_PASSPHRASE\)$/);
    expect(second).toMatch(/^ {2}The passphrase is wrong\./);
  });
});

describe('audit verify names why the chain breaks, in both languages', () => {
  it('edited, removed or reordered, malformed and truncated logs each get their sentence', () => {
    const chain: AuditEntry[] = [];
    for (let i = 0; i < 4; i++) chain.push(nextEntry(chain.at(-1) ?? null, 1_700_000_000 + i, { event: 'import', result: 'ok', detail: `entry ${String(i)}` }));
    const head = { seq: 3, hash: chain[3]!.hash };
    const edited = chain.map((e, i) => (i === 2 ? { ...e, fields: { ...e.fields, detail: 'changed' } } : e));
    const cases = [
      [verifyChain(edited, head), '第 2 条记录被修改。', 'entry 2 was edited.'],
      [verifyChain([chain[0], chain[2], chain[3]], head), '第 2 条记录被删除或顺序被打乱', 'entry 2 was removed or moved'],
      [verifyChain([chain[0], { seq: 1 }, chain[2]], head), '第 1 条记录不是有效的审计记录', 'entry 1 was not an audit entry'],
      [verifyChain(chain.slice(0, 3), head), '第 3 条记录被删除（日志在其记录的链头之前就结束了）。', 'entry 3 was removed (the log ends before its recorded head).'],
    ] as const;
    for (const [verdict, zhText, enText] of cases) {
      expect(verdict.ok).toBe(false);
      const zhLine = auditVerdictLine('zh-CN', verdict, head.hash);
      expect(zhLine).toContain(zhText);
      expect(englishWords(zhLine), zhLine).toEqual([]);
      expect(auditVerdictLine('en', verdict, head.hash)).toContain(enText);
    }
    expect(auditVerdictLine('zh-CN', verifyChain(chain, head), head.hash)).toContain('审计日志验证通过：4 条记录');
  });
});
