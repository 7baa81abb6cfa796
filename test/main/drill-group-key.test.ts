// Issue 12: after a recovery the drill reports the recovered keydata's group public key (compressed
// point; Ethereum address for secp256k1, base58 for ed25519) and the one list of recovery checks
// the agent reports too (the self-check and matchesImported: 17, not 16), in its text and Markdown.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDrill } from '../../scripts/drill';
import { renderText } from '../../scripts/drill-report';
import { RECOVERY_CHECK_NAMES, groupKeyOf, parseKeydata } from '../../shared/keydata';

const F = new URL('../fixtures/tss-lib/', import.meta.url).pathname;

describe('drill report: group key and the one number of checks', () => {
  it.each(['ecdsa', 'eddsa'] as const)('%s', async (curve) => {
    const work = mkdtempSync(join(tmpdir(), 'drill-gk-'));
    const file = join(F, curve, 'keygen_data_0.json');
    const r = await runDrill({ threshold: 3, total: 5, retain: 2, keydata: file, mode: 'external-only', transport: 'file', work });
    expect(r.failure).toBeUndefined();
    const expected = groupKeyOf(parseKeydata(readFileSync(file)));
    expect(r.groupKey).toEqual(expected);
    // The self-check's items for this curve (16 for ECDSA, 6 for EdDSA, which has no Paillier key), then matchesImported.
    const names = Object.keys(r.selfCheck);
    expect(names.length).toBe(curve === 'ecdsa' ? 17 : 7);
    expect(names.at(-1)).toBe('matchesImported');
    expect(names.every((n) => (RECOVERY_CHECK_NAMES as readonly string[]).includes(n))).toBe(true);
    const n = String(names.length);
    const text = renderText(r);
    expect(text).toContain(`self-check ${n}/${n}`);
    expect(text).toContain(`group public key ${expected.compressed}`);
    if (curve === 'ecdsa') expect(text).toContain(`Ethereum address ${expected.address ?? '?'}`);
    else expect(text).toContain(`base58 ${expected.base58 ?? '?'}`);
    const md = readFileSync(join(work, 'drill-report.md'), 'utf8');
    expect(md).toContain(expected.compressed);
    expect(md).toContain(`## Recovery checks (${n}/${n})`);
  });
});
