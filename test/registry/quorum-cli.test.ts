/**
 * Issue 9 §1b: the approver quorum, driven as ops and approvers would, through the real CLIs (the
 * agent CLI and the approver program, one of them spawned as its own process). The first two
 * approvers are registered with their codes compared; after that, adding or disabling an approver
 * takes the signed roster changes of two other enabled approvers, made with
 * `approver sign-roster-change` against the roster exported by `agent approver roster --out`.
 * An operator alone with the CLI cannot put two keys of their own on the roster.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approverFingerprint, checkRosterSuccession, makeRosterChange, openApproverCard, openRoster, peekMessage, type OpenedRoster } from '../../shared/protocol';
import { agentKeyOf, approver, approverCode, approverJson, APPROVER_TEST_KDF, APPROVER_TEST_PASSPHRASE, cli, cliJson, removeTempDirs, runApprover, tempDir } from '../agent-cli/helpers';
import { readApproverKey } from '../../approver/key';

afterAll(removeTempDirs);

const data = tempDir('custos-quorum-data-');
const work = tempDir('custos-quorum-work-');
const D = ['--data', data];
const NAMES = { alice: 'Alice (security)', bob: 'Bob (business owner)', carol: 'Carol (compliance)', dave: 'Dave (audit)', a: 'Approver A', b: 'Approver B' } as const;
type Who = keyof typeof NAMES;
const dir = (w: Who): string => join(work, w);
const card = (w: Who): string => join(dir(w), 'approver.card');
const key = (w: Who): string => join(dir(w), 'approver.key');
const fp = (w: Who): string => Buffer.from(openApproverCard(new Uint8Array(readFileSync(card(w)))).fingerprint).toString('hex');

beforeAll(async () => {
  expect((await cli('init', ...D, '--name', 'agent under test')).code).toBe(0);
  for (const w of Object.keys(NAMES) as Who[]) {
    const r = await approver('keygen', '--out', dir(w), '--name', NAMES[w], ...KEYGEN_EXTRA);
    expect(r.code, r.stderr).toBe(0);
  }
});

/** Keygen at the lowest production work factor (the passphrase comes from the helpers' environment). */
const KEYGEN_EXTRA: string[] = [...APPROVER_TEST_KDF];
const SIGN_EXTRA: string[] = [];

const roster = async (name: string): Promise<OpenedRoster> => {
  const file = join(work, name);
  const r = await cli('approver', 'roster', ...D, '--out', file);
  expect(r.code, r.stderr).toBe(0);
  return openRoster(new Uint8Array(readFileSync(file)), agentKeyOf(data));
};

/** `signer` approves `change` against the roster file `rosterFile`; returns the approval file. */
async function signChange(signer: Who, rosterFile: string, change: ['--add', Who] | ['--disable', Who], out: string): Promise<string> {
  const file = join(dir(signer), out);
  const target = change[0] === '--add' ? ['--add', card(change[1]), '--confirm-code', approverCode(card(change[1]))] : ['--disable', fp(change[1]).slice(0, 12)];
  const r = await approver('sign-roster-change', '--key', key(signer), '--roster', join(work, rosterFile), ...target, '--out', file, '--yes', ...SIGN_EXTRA);
  expect(r.code, r.stderr).toBe(0);
  return file;
}

const add = (w: Who, ...approvals: string[]) => cliJson('approver', 'add', ...D, '--card', card(w), '--confirm-code', approverCode(card(w)), ...approvals.flatMap((a) => ['--approval', a]));
const enabledNames = async (): Promise<string[]> =>
  ((await cliJson('approver', 'list', ...D)).json['approvers'] as { name: string; enabled: boolean }[]).filter((a) => a.enabled).map((a) => a.name).sort();

describe('approver quorum through the CLIs', () => {
  let v2: OpenedRoster;
  let v3: OpenedRoster;

  it('registers the first two approvers with their codes compared; the roster is agent-signed and versioned', async () => {
    const none = await cli('approver', 'roster', ...D);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('(FAILED_PRECONDITION)');
    expect((await add('alice')).code).toBe(0);
    const second = await add('bob');
    expect(second.code, second.stderr).toBe(0);
    expect(second.json['rosterVersion']).toBe(2);
    v2 = await roster('roster-2.cbor');
    expect(v2.body.version).toBe(2);
    expect(v2.body.approvers.map((a) => [a.name, a.status])).toEqual([
      [NAMES.alice, 'enabled'],
      [NAMES.bob, 'enabled'],
    ]);
    // The agent also keeps the current roster beside its card, public, for ops to hand out.
    const kept = join(data, 'approver-roster.cbor');
    expect(openRoster(new Uint8Array(readFileSync(kept)), agentKeyOf(data)).body.version).toBe(2);
    const text = await cli('approver', 'roster', ...D);
    expect(text.stdout).toMatch(/next change \(add or disable\) needs two enabled approvers' signed roster changes for version 2/);
  });

  it('a third approver is refused without two approvals, and nothing is registered', async () => {
    const r = await add('carol');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(APPROVAL_REQUIRED)');
    expect(r.stderr).toContain('approver sign-roster-change');
    expect(await enabledNames()).toEqual([NAMES.alice, NAMES.bob]);
  });

  it("an approver's program shows the change, signs only with --yes, and only after the new approver's code was typed", async () => {
    const out = join(dir('alice'), 'unsigned.cbor');
    const base = ['sign-roster-change', '--key', key('alice'), '--roster', join(work, 'roster-2.cbor'), '--add', card('carol'), '--out', out, ...SIGN_EXTRA];
    const shown = await approver(...base);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toMatch(/action\s+ADD an approver/);
    expect(shown.stdout).toContain(NAMES.carol);
    expect(shown.stdout).toMatch(/roster\s+version 2, 2 enabled: Alice \(security\), Bob \(business owner\)/);
    expect(shown.stdout + shown.stderr).not.toContain(approverCode(card('carol')));
    expect(shown.stderr).toContain('(CONFIRMATION_REQUIRED)');
    const noCode = await approver(...base, '--yes');
    expect(noCode.stderr).toContain('(CONFIRMATION_REQUIRED)');
    const wrong = await approver(...base, '--yes', '--confirm-code', '0000 0000 0000 0000 0000 0000');
    expect(wrong.stderr).toContain('(CODE_MISMATCH)');
    expect(existsSync(out)).toBe(false);
    // Someone not on the roster gets a refusal from their own program.
    const outsider = await approver('sign-roster-change', '--key', key('a'), '--roster', join(work, 'roster-2.cbor'), '--add', card('b'), '--out', join(dir('a'), 'x.cbor'), '--yes', '--confirm-code', approverCode(card('b')), ...SIGN_EXTRA);
    expect(outsider.stderr).toContain('(UNTRUSTED_SIGNER)');
  });

  it('adds the third approver with two approvals (one signed in a separate process), audited with who approved', async () => {
    const a1 = await signChange('alice', 'roster-2.cbor', ['--add', 'carol'], 'add-carol.cbor');
    const only = await add('carol', a1);
    expect(only.stderr).toContain('(APPROVAL_REQUIRED)');
    const twice = await add('carol', a1, a1);
    expect(twice.stderr).toContain('(DUPLICATE_APPROVER)');
    const a2 = join(dir('bob'), 'add-carol.cbor');
    const spawned = await runApprover(['sign-roster-change', '--key', key('bob'), '--roster', join(work, 'roster-2.cbor'), '--add', card('carol'), '--confirm-code', approverCode(card('carol')), '--out', a2, '--yes', ...SIGN_EXTRA]);
    expect(spawned.code, spawned.stderr).toBe(0);
    const ok = await add('carol', a1, a2);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json['rosterVersion']).toBe(3);
    expect(await enabledNames()).toEqual([NAMES.alice, NAMES.bob, NAMES.carol]);
    v3 = await roster('roster-3.cbor');
    // A custodian who pinned version 2 can check the change itself, not only the agent's signature.
    const succession = checkRosterSuccession(v2, v3);
    expect(succession.kind).toBe('quorum');
    const audit = (await cliJson('audit', 'show', ...D, '--limit', '1000')).json['entries'] as { event: string; action: string; result: string; details?: Record<string, unknown> }[];
    const entry = audit.filter((e) => e.action === 'approver-add' && e.result === 'ok').at(-1);
    expect(entry?.details).toMatchObject({ roster_version: 3, rule: 'quorum' });
    expect(String(entry?.details?.['approved_by'])).toContain(fp('alice'));
    expect(String(entry?.details?.['approved_by'])).toContain(fp('bob'));
    expect(audit.filter((e) => e.action === 'approver-add' && e.result === 'refused').length).toBeGreaterThanOrEqual(3);
  });

  it('refuses approvals made for an older roster version, and disables with two current ones', async () => {
    // Alice and Carol approve disabling Bob against version 3; before ops use them, Dave is added (version 4).
    const d1 = await signChange('alice', 'roster-3.cbor', ['--disable', 'bob'], 'disable-bob-v3.cbor');
    const d2 = await signChange('carol', 'roster-3.cbor', ['--disable', 'bob'], 'disable-bob-v3.cbor');
    const dave = await add('dave', await signChange('alice', 'roster-3.cbor', ['--add', 'dave'], 'add-dave.cbor'), await signChange('bob', 'roster-3.cbor', ['--add', 'dave'], 'add-dave.cbor'));
    expect(dave.code, dave.stderr).toBe(0);
    const stale = await cli('approver', 'disable', ...D, fp('bob').slice(0, 12), '--approval', d1, '--approval', d2);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/made for roster version 3; the roster is at version 4/);
    expect(stale.stderr).toContain('(SESSION_MISMATCH)');
    expect(await enabledNames()).toContain(NAMES.bob);
    // Bob cannot approve his own disabling (his program refuses to sign it).
    const self = await approver('sign-roster-change', '--key', key('bob'), '--roster', join(work, 'roster-3.cbor'), '--disable', fp('bob'), '--out', join(dir('bob'), 'self.cbor'), '--yes', ...SIGN_EXTRA);
    expect(self.stderr).toContain('(DUPLICATE_APPROVER)');
    await roster('roster-4.cbor');
    const ok = await cliJson('approver', 'disable', ...D, fp('bob').slice(0, 12), '--approval', await signChange('alice', 'roster-4.cbor', ['--disable', 'bob'], 'disable-bob.cbor'), '--approval', await signChange('dave', 'roster-4.cbor', ['--disable', 'bob'], 'disable-bob.cbor'));
    expect(ok.code, ok.stderr).toBe(0);
    const v5 = await roster('roster-5.cbor');
    expect(v5.body.version).toBe(5);
    expect(v5.body.approvers.find((a) => a.name === NAMES.bob)?.status).toBe('disabled');
    expect(v5.body.change?.action).toBe('disable');
  });

  it('regression: one operator with CLI access alone cannot register two approvers of their own', async () => {
    // The operator made "Approver A" and "Approver B" and knows both codes.
    const alone = await add('a');
    expect(alone.stderr).toContain('(APPROVAL_REQUIRED)');
    // Roster changes signed with their own two keys do not count: neither key is an enabled approver.
    const now = Math.floor(Date.now() / 1000);
    const current = peekMessage(new Uint8Array(readFileSync(join(data, 'approver-roster.cbor'))));
    expect(current.type).toBe('approver-roster');
    const version = openRoster(new Uint8Array(readFileSync(join(data, 'approver-roster.cbor'))), agentKeyOf(data)).body.version;
    const { writeFileSync } = await import('node:fs');
    // For each of their keys, a change adding it signed by the other key and by itself.
    const forge = async (target: 'a' | 'b'): Promise<string[]> => {
      const files: string[] = [];
      for (const [i, signer] of ([target === 'a' ? 'b' : 'a', target] as const).entries()) {
        const k = await readApproverKey(key(signer), () => Promise.resolve(APPROVER_TEST_PASSPHRASE));
        try {
          const t = openApproverCard(new Uint8Array(readFileSync(card(target)))).body;
          const bytes = makeRosterChange(
            { agent_key: agentKeyOf(data), roster_version: version, action: 'add', target: { name: t.name, sign_key: t.sign_key, fingerprint: approverFingerprint(t.sign_key) }, approver_name: NAMES.alice, approved_at: now, not_after: now + 3600 },
            k.signing,
          );
          const f = join(work, `forged-${target}-${String(i)}.cbor`);
          writeFileSync(f, bytes);
          files.push(f);
        } finally {
          k.close();
        }
      }
      return files;
    };
    for (const w of ['a', 'b'] as const) {
      const [other, self] = (await forge(w)) as [string, string];
      const r = await add(w, other, self);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('(UNTRUSTED_SIGNER)');
      expect((await add(w, self, other)).stderr).toContain('(DUPLICATE_APPROVER)');
    }
    expect(await enabledNames()).toEqual([NAMES.alice, NAMES.carol, NAMES.dave]);
    const json = await approverJson('sign-roster-change', '--key', key('a'), '--roster', join(data, 'approver-roster.cbor'), '--disable', fp('alice'), '--out', join(dir('a'), 'y.cbor'), '--yes', ...SIGN_EXTRA);
    expect(json.code).toBe(1);
  });
});
