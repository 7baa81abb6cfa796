// Crash safety of KEK rotation (issue 9 §1: "kill -9 at any point leaves every file readable with
// the old or the new KEK"): a child process rotates a copy of one data directory and is SIGKILLed
// after a chosen step (before the journal, between objects, inside a write, during the end steps),
// many times. After every kill each sealed file and each sealed session key must open under the
// old or the new KEK, as its header says; then the rotation is finished (resumed, or it had not
// begun or had ended) and the agent opens with every keydata byte-identical, and the old KEK's
// erase keys of the retained shares are destroyed once the shares moved.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../agent/db';
import { readKekState, ROTATION_JOURNAL } from '../../agent/kek/config';
import { eraseDirOf, LocalFileKek } from '../../agent/kek/file';
import { listSealedFiles, rotateKek, sealedKekId } from '../../agent/kek/rotate';
import { SecretStore } from '../../agent/secret-store';
import { Agent } from '../../agent/service';
import { approvedSession, compactFixture, fixture, makeWorld, removeTempDirs, tempDir } from '../agent/helpers';

let bundle: string | undefined;
afterAll(() => {
  removeTempDirs();
  if (bundle !== undefined) rmSync(bundle, { force: true });
});

const KILLS = 24;
const NODES = [
  ['key-a', 'node-0', 'eddsa', 0],
  ['key-a', 'node-1', 'eddsa', 1],
  ['key-b', 'node-0', 'ecdsa', 0],
  ['key-b', 'node-1', 'ecdsa', 1],
] as const;

/** Bundled once into the repository's cache (so native modules resolve from node_modules). */
async function bundleChild(): Promise<string> {
  const dir = join(process.cwd(), 'node_modules', '.cache', 'custos-kek-crash');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `child-${String(process.pid)}.mjs`);
  await build({
    entryPoints: [new URL('./rotate-crash-child.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    logLevel: 'silent',
    external: ['better-sqlite3', 'pkcs11js'],
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return out;
}

/** Runs the child and kills it `delayMs` after its `nth` output line (or lets it end). Returns the lines seen. */
function runAndKill(child: string, dir: string, target: string, nth: number, delayMs: number): Promise<{ lines: string[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, target], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    let buf = '';
    p.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length === nth && timer === undefined) timer = setTimeout(() => p.kill('SIGKILL'), delayMs);
      }
    });
    p.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const guard = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(guard);
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== 'SIGKILL' && code !== 0) reject(new Error(`the child failed (${String(code)}): ${err}`));
      else resolve({ lines, killed: signal === 'SIGKILL' });
    });
  });
}

describe('KEK rotation under kill -9', () => {
  it(`survives ${String(KILLS)} SIGKILLs at every stage: each object opens under the old or the new KEK, and a resume finishes`, async () => {
    const child = await bundleChild();
    bundle = child;
    // The pristine directory: 4 nodes, 2 backup sets (2 retained shares each), 1 open session.
    const w = await makeWorld();
    for (const [keyId, nodeId, scheme, party] of NODES) await w.agent.importKeyshare(keyId, nodeId, fixture(scheme, party));
    for (const [keyId, nodeId] of NODES.slice(0, 2)) await w.agent.backup(keyId, nodeId, { threshold: 3, total: 5, retain: 2 }, w.fingerprints, w.out);
    await approvedSession(w, { keyId: 'key-a', nodeId: 'node-0', mode: 'mixed' });
    const oldId = w.agent.kekId;
    w.agent.close();
    const oldConfig = readKekState(w.dir)?.current;
    if (oldConfig?.provider !== 'file') throw new Error('expected a file KEK');
    const oldKek = LocalFileKek.openAt(oldConfig.path);
    // The old KEK's erase keys (agent/kek/file.ts) live beside it, outside the data directory; a
    // finished rotation destroys them, so each run starts from a copy of the pristine ones.
    const eraseDir = eraseDirOf(oldConfig.path);
    const pristineErase = join(tempDir('custos-kek-erase-'), 'erase');
    cpSync(eraseDir, pristineErase, { recursive: true });
    expect(readdirSync(eraseDir)).toHaveLength(2 * 2);
    const objects = listSealedFiles(w.dir, oldKek).length + 1;
    expect(objects).toBe(4 * 2 + 2 * 2 + 1 + 1);

    let midway = 0;
    let untouched = 0;
    let finished = 0;
    for (let k = 0; k < KILLS; k++) {
      const root = tempDir('custos-kek-crash-');
      const dir = join(root, 'data');
      cpSync(w.dir, dir, { recursive: true });
      rmSync(eraseDir, { recursive: true, force: true });
      cpSync(pristineErase, eraseDir, { recursive: true });
      const target = join(root, 'new.kek');
      // Aim: after line `nth` of started, prepared, object 1..N, finished; a random delay lands inside the next write.
      const nth = 1 + ((k * 7) % (objects + 3));
      const run = await runAndKill(child, dir, target, nth, Math.random() * 4);

      // Every object opens under the KEK its header names, which is the old or the new one.
      const newKek = existsSync(target) ? LocalFileKek.openAt(target) : undefined;
      const stores = new Map([[oldId, new SecretStore(dir, oldKek)], ...(newKek === undefined ? [] : [[newKek.id, new SecretStore(dir, newKek)] as const])]);
      for (const f of listSealedFiles(dir, oldKek)) {
        const sealed = new Uint8Array(readFileSync(f.path));
        const id = sealedKekId(sealed) ?? '';
        expect([oldId, newKek?.id], `kill ${String(k)}: ${f.path}`).toContain(id);
        await stores.get(id)?.open(f.ref, sealed);
      }
      const db = new Database(join(dir, DB_FILE), { readonly: true });
      const blobs = db.prepare('SELECT session_id, identity_sealed FROM recovery_sessions WHERE identity_sealed IS NOT NULL').all() as { session_id: string; identity_sealed: Uint8Array }[];
      db.close();
      expect(blobs).toHaveLength(1);
      for (const b of blobs) {
        const sealed = new Uint8Array(b.identity_sealed);
        const id = sealedKekId(sealed) ?? '';
        expect([oldId, newKek?.id]).toContain(id);
        await stores.get(id)?.open({ kind: 'session-identity', sessionId: b.session_id }, sealed);
      }
      newKek?.close();

      // Then finish: resume an interrupted rotation; otherwise it had not begun (old key) or had ended.
      if (existsSync(join(dir, ROTATION_JOURNAL))) {
        midway++;
        await expect(Agent.open(dir)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
        const r = await rotateKek(dir, 'resume', { operator: 'crash-test' });
        expect(r.resumed).toBe(true);
      } else if (readKekState(dir)?.current.id === oldId) {
        untouched++;
        // Killed before the journal was written: the child never reached "prepared".
        expect(run.lines.some((l) => l.startsWith('prepared')), `kill ${String(k)}`).toBe(false);
      } else {
        finished++;
      }
      const state = readKekState(dir);
      const agent = await Agent.open(dir);
      // Every keydata byte for byte on every fourth run (each costs a tss-lib encode); one on the others.
      for (const [keyId, nodeId, scheme, party] of k % 4 === 0 ? NODES : NODES.slice(k % 4, (k % 4) + 1)) {
        expect(await agent.exportKeydata(keyId, nodeId)).toEqual(compactFixture(scheme, party));
      }
      agent.close();
      for (const f of listSealedFiles(dir, oldKek)) expect(sealedKekId(new Uint8Array(readFileSync(f.path)))).toBe(state?.current.id);
      if (state?.current.id !== oldId) {
        // Every retained share moved, so the old KEK's erase keys are gone, and their folder with them.
        expect(existsSync(eraseDir), `kill ${String(k)}`).toBe(false);
        // (a kill inside an erase key's atomic write leaves an unused `.…tmp` file: the end steps remove it)
        expect(readdirSync(eraseDirOf(target)).sort()).toEqual(readdirSync(eraseDirOf(target)).filter((n) => n.endsWith('.key')).sort());
        expect(readdirSync(eraseDirOf(target))).toHaveLength(2 * 2);
      }
    }
    oldKek.close();
    console.log(`rotation crash test: ${String(KILLS)} kills over ${String(objects)} objects: ${String(midway)} mid-rotation (resumed), ${String(untouched)} before it began, ${String(finished)} after it ended`);
    expect(midway).toBeGreaterThan(KILLS / 3);
  }, 300_000);
});
