/**
 * The vault folder's names, modes and README (vault.ts has the Vault itself; docs/custodian-vault.md
 * the layout). Layout 2: identity.age + store/ (vault-store.ts); layout 1 had shares.age and
 * shares.prev.age, read once by the migration.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { STORE_DIR } from './vault-store';

export const VAULT_FILES = {
  identity: 'identity.age',
  store: STORE_DIR,
  meta: 'vault.json',
  card: 'enrollment-card.custos',
  attempts: 'unlock-attempts.json',
  readme: 'README.txt',
} as const;

/** Layout 1's files, read once by the migration and then removed. */
export const LEGACY_FILES = { shares: 'shares.age', previous: 'shares.prev.age' } as const;

/** Files anyone may read (the folder itself is 0700). Everything else in the folder is forced to 0600. */
export const PUBLIC_FILES: ReadonlySet<string> = new Set([VAULT_FILES.meta, VAULT_FILES.card, VAULT_FILES.readme, VAULT_FILES.attempts, 'settings.json']);

export const README = `Custos custodian vault / Custos 托管人保险库

This folder is your Custos vault. Keep it, and back it up. Without Custos, with the passphrase
and the standard "age" tool (https://age-encryption.org), you can still read everything:

  age -d -o key.txt identity.age      (asks for your passphrase; key.txt is your secret key: protect it)
  for f in store/*.age; do age -d -i key.txt "$f"; echo; done
                                      (prints every record as JSON, shares in hex)

store/snap-<G>-*.age hold the vault as it was at save number G ("items": shares, refusals, audit);
store/log-<g>.age each hold one later change, in order: "put" items replace the item with the same
"id" (or are new), "del" lists removed ids. The newest snap + every later log = the vault now.
vault.json and enrollment-card.custos are public.

此文件夹是您的 Custos 保险库，请妥善保管并备份。即使没有 Custos，只要有口令和标准 age 工具，
也可以读出全部内容：

  age -d -o key.txt identity.age      （会要求输入口令；key.txt 是您的私钥，请妥善保护）
  for f in store/*.age; do age -d -i key.txt "$f"; echo; done
                                      （以 JSON 输出全部记录，分片为十六进制）

store/snap-<G>-*.age 是第 G 次保存时的保险库内容；store/log-<g>.age 依次是之后的每一次更改：
"put" 中的条目替换相同 "id" 的条目（或为新增），"del" 列出被删除的 id。最新的 snap 加上其后所有 log
即为当前内容。vault.json 和 enrollment-card.custos 是公开信息。
`;

export const ESCAPE_HATCH = ['age -d -o key.txt identity.age', 'for f in store/*.age; do age -d -i key.txt "$f"; echo; done'];

/** The folder 0700, its store 0700, every file 0600 (public ones 0644): whatever they were made with. */
export async function enforceModes(dir: string): Promise<void> {
  await fsp.chmod(dir, 0o700);
  for (const f of await fsp.readdir(dir)) {
    const path = join(dir, f);
    const st = await fsp.lstat(path);
    if (st.isDirectory() && f === STORE_DIR) {
      await fsp.chmod(path, 0o700);
      for (const g of await fsp.readdir(path)) await fsp.chmod(join(path, g), 0o600);
    } else if (st.isFile()) {
      const mode = PUBLIC_FILES.has(f) ? 0o644 : 0o600;
      if ((st.mode & 0o777) !== mode) await fsp.chmod(path, mode);
    }
  }
}

/** JSON with every object's keys sorted (the self-check compares states whose key order may differ). */
export function canonicalJson(json: string): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
  };
  return JSON.stringify(sort(JSON.parse(json)));
}

