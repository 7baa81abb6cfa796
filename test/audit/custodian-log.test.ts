// One verifier for both logs: the custodian app's audit log, written by the app before the agent
// joined the one chain (the vault in test/fixtures/vault-v1), still verifies after unlock, and its
// export passes the same verifier (shared/audit/verify.ts) that checks the agent's exports.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { exportAuditJsonl, verifyAudit } from '../../main/services/audit';
import { Vault } from '../../main/services/vault';
import { verifyExportedLog } from '../../shared/audit/verify';
import { removeTempDirs, tempDir } from '../agent/helpers';

afterEach(removeTempDirs);

const FIXTURE = new URL('../fixtures/vault-v1/', import.meta.url).pathname;

describe("the custodian app's audit log and the one verifier", () => {
  it('a vault written by the earlier code verifies, and its export passes the agent-side verifier too', async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as { passphrase: string; auditEntries: number };
    const dir = join(tempDir('custos-vault-'), 'vault');
    cpSync(join(FIXTURE, 'vault'), dir, { recursive: true });
    const v = await Vault.open(dir);
    const r = await v.unlock(expected.passphrase);
    try {
      expect(r.auditOk).toBe(true);
      expect(verifyAudit(v.state).ok).toBe(true);
      const exported = exportAuditJsonl(v.state);
      const one = verifyExportedLog(exported.jsonl, { agentKeys: [] });
      expect(one).toMatchObject({ ok: true, mode: 'full', checkpoints: { valid: 0, invalid: 0 } });
      expect(one.entries).toBeGreaterThanOrEqual(expected.auditEntries);
      expect(one.headHash).toBe(exported.head?.hash);
      const edited = exported.jsonl.replace('"result":"ok"', '"result":"failed"');
      expect(verifyExportedLog(edited, { agentKeys: [] })).toMatchObject({ ok: false, firstBad: { seq: 0, problem: 'edited' } });
    } finally {
      await v.lock();
    }
  });
});
