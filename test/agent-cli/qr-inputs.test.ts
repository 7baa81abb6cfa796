// Receipts and exports come back to the agent as the custodian app writes them (issue 13 "QR both
// ways"): a folder of `.custos` files, PNG frames, SVG frames and `-qr-frames.txt`, written by the
// app's own writer (main/services/qr-files.ts). `agent delivery confirm` (the real CLI) takes the
// folder, counts each receipt once and names what it skipped; sortInputs, which `session submit`
// uses, keeps two exports' frames apart and names every file it leaves out and why.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMessageFiles } from '../../main/services/qr-files';
import { sortInputs, UR_TYPES } from '../../node/qr-files';
import { renderPng } from '../../shared/qr/render';
import { framesAt } from '../../shared/qr/loop';
import { cli, cliJson, FIXTURE, makeCustodians, openEnvelopes, removeTempDirs, runCli, tempDir, writeReceipt, type Held } from './helpers';

afterAll(removeTempDirs);

const data = tempDir('custos-qrin-data-');
const work = tempDir('custos-qrin-work-');
const D = ['--data', data];
let held: Held[] = [];

beforeAll(async () => {
  const init = await runCli(['init', ...D, '--name', 'agent under test']);
  expect(init.code, init.stderr).toBe(0);
  const custodians = await makeCustodians(work, 3);
  for (const [i, c] of custodians.entries()) {
    const r = await cliJson('custodian', 'add', ...D, '--card', c.cardFile, '--label', `Custodian ${String(i + 1)}`, '--role', 'security-team', '--confirm-code', c.code);
    expect(r.code, r.stderr).toBe(0);
  }
  expect((await cliJson('keyshare', 'import', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--keydata', FIXTURE)).code).toBe(0);
  const b = await cliJson('backup', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--custodians', custodians.map((c) => c.fingerprint.slice(0, 8)).join(','), '--out', join(work, 'envelopes'));
  expect(b.code, b.stderr).toBe(0);
  held = await openEnvelopes(data, custodians, (b.json['backup'] as { envelopes: { shareIndex: number; custodian: string; file: string }[] }).envelopes);
}, 120_000);

describe('QR inputs back to the agent', () => {
  it('delivery confirm takes the custodian app\'s own QR outputs: a folder of .custos, PNG, SVG and frames text, each receipt once', async () => {
    const out = join(work, 'receipts');
    mkdirSync(out);
    const raw = join(work, 'raw');
    mkdirSync(raw);
    const [h1, h2, h3] = [held[0]!, held[1]!, held[2]!];
    // Receipt 1: everything the app writes (file, PNG, SVG, frames text); receipt 2: PNG frames only; receipt 3: frames text only.
    const r1 = new Uint8Array(readFileSync(writeReceipt(join(raw, 'r1'), 'key-1', 'node-0', h1)));
    await writeMessageFiles(out, 'receipt-1', 'receipt', r1, { png: true, svg: true });
    const r2 = new Uint8Array(readFileSync(writeReceipt(join(raw, 'r2'), 'key-1', 'node-0', h2)));
    const w2 = await writeMessageFiles(join(work, 'r2'), 'receipt-2', 'receipt', r2, { png: true });
    for (const p of w2.png) writeFileSync(join(out, p.split('/').pop()!), readFileSync(p));
    const r3 = new Uint8Array(readFileSync(writeReceipt(join(raw, 'r3'), 'key-1', 'node-0', h3)));
    const w3 = await writeMessageFiles(join(work, 'r3'), 'receipt-3', 'receipt', r3, { png: true });
    writeFileSync(join(out, 'receipt-3-qr-frames.txt'), readFileSync(w3.framesFile!));
    expect(readdirSync(out).some((f) => /^receipt-1-qr-01-of-\d\d\.png$/.test(f))).toBe(true);

    const r = await cliJson('delivery', 'confirm', ...D, out);
    expect(r.code, r.stderr).toBe(0);
    expect((r.json['confirmed'] as { shareIndex: number; status: string }[]).map((x) => `${String(x.shareIndex)}:${x.status}`).sort()).toEqual(
      [h1, h2, h3].map((h) => `${String(h.shareIndex)}:confirmed`).sort(),
    );
    expect(r.json['refused']).toEqual([]);
    const skipped = r.json['skipped'] as { file: string; code: string }[];
    expect(skipped.filter((x) => x.code === 'SKIPPED').map((x) => x.file.split('/').pop())).toEqual(readdirSync(out).filter((f) => f.endsWith('.svg')).sort());
    expect(skipped.filter((x) => x.code === 'DUPLICATE').length).toBeGreaterThan(0); // receipt 1's PNG and text repeat its file

    // A folder with one image of no code and a frames text cut short: both named, exit 3, nothing else lost.
    const bad = join(work, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'blank.png'), readFileSync(w2.png[0]!).subarray(0, 8)); // a PNG signature and no image
    writeFileSync(join(bad, 'receipt-3-qr-frames.txt'), readFileSync(w3.framesFile!));
    const again = await cli('delivery', 'confirm', ...D, bad);
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(/refused\s+\S*blank\.png: .+ \(MALFORMED\)/);
  });

  it('sortInputs: two exports\' frames mixed never mix, each export once, every left-out file named with why', async () => {
    const a = Uint8Array.from({ length: 2500 }, (_, i) => (i * 7 + 1) & 255);
    const b = Uint8Array.from({ length: 2500 }, (_, i) => (i * 13 + 5) & 255);
    const dir = join(work, 'exports');
    mkdirSync(dir);
    const fa = framesAt(a, UR_TYPES.export, 10);
    const fb = framesAt(b, UR_TYPES.export, 10);
    expect(fa.length).toBeGreaterThan(3);
    const inputs: { file: string; bytes: Uint8Array }[] = [];
    for (const [i, f] of fa.entries()) inputs.push({ file: `a-${String(i)}.png`, bytes: await renderPng(f) });
    for (const [i, f] of fb.entries()) inputs.splice(i * 2, 0, { file: `b-${String(i)}.png`, bytes: await renderPng(f) });
    inputs.push({ file: 'a.custos', bytes: a }); // the same export as a file: counted once
    inputs.push({ file: 'c-frames.txt', bytes: new TextEncoder().encode(framesAt(Uint8Array.from({ length: 2500 }, (_, i) => i & 255), UR_TYPES.export, 10).slice(1).join('\n')) });
    inputs.push({ file: 'env.png', bytes: await renderPng(framesAt(Uint8Array.of(1, 2, 3), UR_TYPES.envelope)[0]!) });
    const sorted = sortInputs(inputs, { type: UR_TYPES.export, what: 'recovery export' });
    expect(sorted.messages.map((m) => m.bytes)).toEqual([a, b]);
    expect(sorted.messages[0]!.names).toEqual(['a.custos']);
    expect(sorted.skipped.map((x) => `${x.file} ${x.code}`).sort()).toEqual(['c-frames.txt INCOMPLETE', 'env.png WRONG_TYPE', ...fa.map((_, i) => `a-${String(i)}.png DUPLICATE`)].sort());
    expect(sorted.frames).toBe(fa.length + fb.length + fa.length - 1 + 1);
    rmSync(dir, { recursive: true });
  });
});
