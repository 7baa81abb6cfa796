/**
 * KEK rotation (issue 9 §1 "KEK rotation"): every sealed object of a data directory — the files
 * under keys/, backup/ and agent/, and the sealed recovery-session keys in the database — moves
 * from the current KEK to a new one (file → file, file → HSM, HSM → new HSM key, HSM → file), then
 * the old KEK id is retired: kek.json lists it and the agent refuses any file still naming it
 * (KEK_RETIRED), e.g. a copy restored from before the rotation.
 *
 * What moves: each object's data key. A version-2 object (agent/secret-store.ts) is REWRAPPED:
 * its wrapped key and payload are authenticated under the old KEK, then only the KEK id and the
 * wrapped key are replaced — the same data key wrapped by the new KEK (a retained share's under a
 * new erase key of the new KEK) — and the nonce and ciphertext stay byte for byte. A version-1
 * object (written before version 2; its AAD covers the wrapped key, so nothing can be spliced in)
 * is upgraded once: opened under the old KEK and sealed afresh as version 2 under the new one.
 * Either way the new bytes are written over the old file atomically; nothing else changes (paths,
 * records, content). Keys and plaintexts are wiped after each object. Once a retained share is
 * under the new KEK its erase key under the old KEK is destroyed, so a copy of the old file opens
 * nowhere even with the old KEK; the old KEK's empty erase-key folder is removed at the end.
 *
 * Crash safety (kill -9 at any point): a journal `<data>/kek-rotation.json` is written (atomically,
 * exclusively) before the new KEK is created and removed last. Each object is replaced by one
 * atomic rename (files) or one UPDATE (database), so at every instant each object is wholly under
 * the old or the new KEK — its header says which. While the journal exists `open` refuses, and
 * `rotate --resume` finishes the job: it skips objects already under the new id and re-does the
 * end steps (kek.json, the meta row, the audit entry, the journal), each of which is idempotent.
 *
 * The agent must not be running (`serve`) during a rotation: its open KEK would seal new files
 * under the old key. Audited as `configure`/`kek-rotate` (start and end, with both ids and counts).
 */
import { readdirSync, readFileSync, lstatSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { utf8, wipe } from '../../shared/bytes';
import { appendAudit } from '../audit/log';
import { inTransaction, openDatabase } from '../db';
import { AgentError } from '../errors';
import { checkRef, sealedVersion, SecretStore, type SecretRef } from '../secret-store';
import { existsSync, removeFileDurable, writeFileAtomicSync } from '../../node/fs-atomic';
import { assertPrivateFile } from '../../node/private-file';
import {
  assertOutsideDataDir,
  configOf,
  defaultKekFile,
  kekConfigSchema,
  openConfigured,
  openProvider,
  readKekState,
  ROTATION_JOURNAL,
  writeKekState,
  type DescribedKek,
  type KekChoice,
  type KekConfig,
  type KekState,
} from './config';
import { eraseDirOf, KEK_FILE, LocalFileKek } from './file';
import { pkcs11ParamsSchema } from './pkcs11';

const targetSchema = z.discriminatedUnion('provider', [
  z.strictObject({ provider: z.literal('file'), path: z.string().min(1) }),
  pkcs11ParamsSchema.extend({ provider: z.literal('pkcs11') }).strict(),
]);
type Target = z.infer<typeof targetSchema>;

const journalSchema = z.strictObject({
  version: z.literal(1),
  from: kekConfigSchema,
  /** The from key was the pre-kek.json `<data>/kek.key`: removed at the end. */
  legacy: z.boolean(),
  to: targetSchema,
  /** Set once the new KEK exists. */
  toId: z.string().optional(),
  startedAt: z.number().int(),
});
type Journal = z.infer<typeof journalSchema>;

export type RotationProgress =
  | { readonly phase: 'prepared'; readonly fromId: string; readonly toId: string; readonly total: number }
  | { readonly phase: 'object'; readonly done: number; readonly total: number; readonly rewrapped: boolean }
  | { readonly phase: 'finished' };

export interface RotateOptions {
  /** Who rotates (the audit entry's operator). */
  readonly operator: string;
  readonly now?: () => number;
  /** PIN of the NEW HSM key's token when it is not in its PIN file or CUSTOS_PKCS11_PIN. */
  readonly pin?: string;
  /** Called after each step (the CLI prints progress; the crash test aims its kills with it). */
  readonly onProgress?: (p: RotationProgress) => void;
}

export interface RotateResult {
  readonly fromId: string;
  readonly toId: string;
  readonly to: KekConfig;
  /** Objects moved to the new KEK by this run (files and database blobs). */
  readonly rewrapped: number;
  /** Objects found already under the new KEK (a resumed run). */
  readonly alreadyDone: number;
  /** Of `rewrapped`, the version-1 objects re-sealed as version 2 (the rest kept their ciphertext). */
  readonly upgraded: number;
  readonly resumed: boolean;
  /** Sentence for the operator: what to do with the old key now. */
  readonly oldKeyAdvice: string;
}

/** The KEK id a sealed object names (header bytes 6..; see agent/secret-store.ts). */
export function sealedKekId(sealed: Uint8Array): string | undefined {
  if (sealed.length < 8 || sealed[0] !== 0x43 || sealed[1] !== 0x53 || sealed[2] !== 0x54 || sealed[3] !== 0x53) return undefined;
  const len = sealed[6] ?? 0;
  if (len < 1 || 7 + len > sealed.length) return undefined;
  return new TextDecoder().decode(sealed.subarray(7, 7 + len));
}

type Item = { readonly kind: 'file'; readonly ref: SecretRef; readonly path: string } | { readonly kind: 'session'; readonly sessionId: string };

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

const isDir = (p: string): boolean => {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Every sealed file of the data directory, with the reference its path encodes; stale temp files are removed. */
function sealedFiles(root: string, store: SecretStore): Item[] {
  const items: Item[] = [];
  const add = (ref: SecretRef, path: string): void => {
    const checked = checkRef(ref);
    if (store.pathOf(checked) !== path) throw new AgentError('CORRUPT_FILE', `${path} is not where an agent file of its name belongs; move it out of the data directory before rotating.`);
    items.push({ kind: 'file', ref: checked, path });
  };
  const skipTemp = (dir: string, name: string): boolean => {
    if (!name.startsWith('.')) return false;
    // `.name.<random>.tmp`: an atomic write cut short (a crash); it never replaced anything.
    if (/^\..+\.[0-9a-f]{12}\.tmp$/.test(name)) removeFileDurable(join(dir, name));
    return true;
  };
  const unknown = (path: string): never => {
    throw new AgentError('CORRUPT_FILE', `${path} looks like a sealed file but its name is not one the agent writes; move it out of the data directory before rotating (it would stay under the old key).`);
  };
  const keys = join(root, 'keys');
  for (const keyId of list(keys)) {
    const kd = join(keys, keyId);
    if (!isDir(kd)) continue;
    for (const name of list(kd)) {
      if (skipTemp(kd, name) || !name.endsWith('.enc')) continue;
      const path = join(kd, name);
      try {
        if (name.endsWith('.keydata.enc')) add({ kind: 'keydata', keyId, nodeId: name.slice(0, -'.keydata.enc'.length) }, path);
        else add({ kind: 'share', keyId, nodeId: name.slice(0, -'.enc'.length) }, path);
      } catch (error) {
        if (error instanceof AgentError) throw error;
        unknown(path);
      }
    }
  }
  const backup = join(root, 'backup');
  for (const keyId of list(backup)) {
    for (const nodeId of list(join(backup, keyId))) {
      for (const setId of list(join(backup, keyId, nodeId))) {
        const sd = join(backup, keyId, nodeId, setId);
        if (!isDir(sd)) continue;
        for (const name of list(sd)) {
          if (skipTemp(sd, name) || !name.endsWith('.enc')) continue;
          const path = join(sd, name);
          try {
            add({ kind: 'retained-share', keyId, nodeId, setId, index: Number(name.slice(0, -'.enc'.length)) }, path);
          } catch (error) {
            if (error instanceof AgentError) throw error;
            unknown(path);
          }
        }
      }
    }
  }
  const agentDir = join(root, 'agent');
  for (const name of list(agentDir)) skipTemp(agentDir, name);
  if (existsSync(join(agentDir, 'identity.enc'))) add({ kind: 'agent-identity' }, join(agentDir, 'identity.enc'));
  return items;
}

/** The sealed files of a data directory with the reference each path encodes (for checks and tests). */
export function listSealedFiles(dataDir: string, kek: DescribedKek): { readonly ref: SecretRef; readonly path: string }[] {
  const dir = resolve(dataDir);
  return sealedFiles(dir, new SecretStore(dir, kek)).flatMap((i) => (i.kind === 'file' ? [{ ref: i.ref, path: i.path }] : []));
}

/** Removes `.name.<12 hex>.tmp` files of atomic writes a crash cut short (they never replaced anything). */
function removeTempFiles(dir: string): void {
  for (const name of list(dir)) if (/^\..+\.[0-9a-f]{12}\.tmp$/.test(name)) removeFileDurable(join(dir, name));
}

/**
 * Removes an old KEK's erase-key folder once every erase key in it is destroyed (an unused temp
 * file of an interrupted write goes first); a folder with anything else in it is left as it is.
 */
function removeEmptyDir(path: string): void {
  removeTempFiles(path);
  try {
    rmdirSync(path);
  } catch {
    // missing, or not empty (an erase key of a share that is not this agent's): left as it is
  }
}

function readJournal(path: string): Journal | undefined {
  if (!existsSync(path)) return undefined;
  assertPrivateFile(path, ROTATION_JOURNAL);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AgentError('CORRUPT_FILE', `${ROTATION_JOURNAL} is not valid JSON: it is damaged. It holds no secret; ask for help before removing it (it says which key each file may be under).`, { cause: error });
  }
  const r = journalSchema.safeParse(parsed);
  if (!r.success) throw new AgentError('CORRUPT_FILE', `${ROTATION_JOURNAL} is not a rotation journal this build knows.`);
  return r.data;
}

function writeJournal(path: string, journal: Journal, options: { noOverwrite?: boolean } = {}): void {
  writeFileAtomicSync(path, utf8(`${JSON.stringify(journalSchema.parse(journal), null, 2)}\n`), { mode: 0o600, noOverwrite: options.noOverwrite === true });
}

function describeTarget(t: Target | KekConfig): string {
  return t.provider === 'file' ? `the key file ${t.path}` : `the key "${t.keyLabel}" on HSM token "${t.tokenLabel}"`;
}

/** Checks the target against the current key (a rotation to the same key is refused). */
function targetOf(dir: string, to: KekChoice, from: KekConfig): Target {
  if (to.provider === 'file') {
    const path = assertOutsideDataDir(dir, to.path ?? defaultKekFile(dir));
    if (from.provider === 'file' && resolve(from.path) === path) {
      throw new AgentError('CONFLICT', `${path} is the current KEK file; a rotation needs a new file.`);
    }
    return { provider: 'file', path };
  }
  const t = targetSchema.parse({ provider: 'pkcs11', module: to.module, tokenLabel: to.tokenLabel, keyLabel: to.keyLabel, ...(to.pinFile === undefined ? {} : { pinFile: to.pinFile }) });
  if (from.provider === 'pkcs11' && t.provider === 'pkcs11' && from.tokenLabel === t.tokenLabel && from.keyLabel === t.keyLabel) {
    throw new AgentError('CONFLICT', `The key "${t.keyLabel}" on token "${t.tokenLabel}" is the current KEK; a rotation needs a new key label.`);
  }
  return t;
}

/**
 * Opens (creating if needed) the rotation's new KEK. A new key file exists already only when a
 * crash came between creating it and recording its id (`mayExist`, a resumed run): it is ours.
 */
function openTarget(dir: string, t: Target, pin: string | undefined, expectId: string | undefined, mayExist: boolean): DescribedKek {
  let kek: DescribedKek;
  if (t.provider === 'file') {
    kek = mayExist && existsSync(t.path) ? LocalFileKek.openAt(assertOutsideDataDir(dir, t.path)) : openProvider(t, { create: true, dataDir: dir });
  } else {
    kek = openProvider({ ...t, ...(pin === undefined ? {} : { pin }) }, { create: true });
  }
  if (expectId !== undefined && kek.id !== expectId) {
    kek.close();
    throw new AgentError('KEK_UNAVAILABLE', `${describeTarget(t)} is not the key this rotation started with (${expectId}); put it back, then run: agent kek rotate --resume`, {
      details: { reason: 'key-replaced' },
    });
  }
  return kek;
}

/**
 * Rotates the KEK of the data directory `dataDir` to `to`, or finishes an interrupted rotation
 * (`to` = 'resume'). See the module header for what it guarantees.
 */
export async function rotateKek(dataDir: string, to: KekChoice | 'resume', options: RotateOptions): Promise<RotateResult> {
  const dir = resolve(dataDir);
  const now = options.now ?? Date.now;
  const journalPath = join(dir, ROTATION_JOURNAL);
  let journal = readJournal(journalPath);
  const resumed = journal !== undefined;
  if (to === 'resume' && journal === undefined) throw new AgentError('FAILED_PRECONDITION', `No interrupted KEK rotation to resume in ${dir}.`);
  if (to !== 'resume' && journal !== undefined) {
    throw new AgentError('FAILED_PRECONDITION', `A KEK rotation to ${describeTarget(journal.to)} was interrupted; finish it first with: agent kek rotate --resume`, {
      details: { reason: 'rotation-interrupted' },
    });
  }
  const db = openDatabase(dir);
  const opened: DescribedKek[] = [];
  // Until the first object moves, a failure of a fresh run undoes it: the journal and a key file it made go.
  let undo: (() => void) | undefined;
  try {
    let state: KekState | undefined;
    if (journal === undefined) {
      // A fresh rotation: the current key must open this agent's identity before anything is made.
      state = readKekState(dir);
      const old = state === undefined ? LocalFileKek.open(dir) : openConfigured(state.current);
      opened.push(old);
      const from: KekConfig = state?.current ?? { provider: 'file', path: join(dir, KEK_FILE), id: old.id };
      await new SecretStore(dir, old).read({ kind: 'agent-identity' });
      const target = targetOf(dir, to as KekChoice, from);
      journal = { version: 1, from, legacy: state === undefined, to: target, startedAt: now() };
      writeJournal(journalPath, journal, { noOverwrite: true });
      const made = target.provider === 'file' && !existsSync(target.path) ? target.path : undefined;
      undo = () => {
        if (made !== undefined) removeFileDurable(made);
        removeFileDurable(journalPath);
      };
    } else {
      state = readKekState(dir);
    }
    const j: Journal = journal;
    const pin = to !== 'resume' && to.provider === 'pkcs11' ? to.pin : undefined;
    const next = openTarget(dir, j.to, pin, j.toId, resumed);
    opened.push(next);
    const retiredIds = new Set([...(state?.retired ?? []).map((r) => r.id), j.from.id]);
    if (j.toId === undefined) {
      if (retiredIds.has(next.id)) {
        throw new AgentError('CONFLICT', `${describeTarget(j.to)} is a key this agent used before and retired (${next.id}); rotate to a new key.`);
      }
      journal = { ...j, toId: next.id };
      writeJournal(journalPath, journal);
    }
    const fromId = j.from.id;
    const toId = next.id;
    inTransaction(db, () => {
      appendAudit(db, { event: 'configure', action: 'kek-rotate', result: 'ok', operator: options.operator, target: `kek:${toId}`, details: { phase: resumed ? 'resumed' : 'started', from: fromId, to: toId } }, now());
    });

    // The old KEK is opened only if some object still needs it (a resumed run may have none left).
    let oldKek: DescribedKek | undefined = opened.find((k) => k.id === fromId);
    const oldStore = (): SecretStore => {
      if (oldKek === undefined) {
        oldKek = j.legacy ? LocalFileKek.open(dir) : openConfigured(j.from);
        opened.push(oldKek);
      }
      return new SecretStore(dir, oldKek);
    };
    const newStore = new SecretStore(dir, next);
    const files = sealedFiles(dir, newStore);
    const sessions = (db.prepare('SELECT session_id FROM recovery_sessions WHERE identity_sealed IS NOT NULL ORDER BY session_id').all() as { session_id: string }[]).map(
      (r): Item => ({ kind: 'session', sessionId: r.session_id }),
    );
    const items = [...files, ...sessions];
    undo = undefined;
    options.onProgress?.({ phase: 'prepared', fromId, toId, total: items.length });
    let rewrapped = 0;
    let alreadyDone = 0;
    let upgraded = 0;
    for (const [i, item] of items.entries()) {
      const ref: SecretRef = item.kind === 'file' ? item.ref : { kind: 'session-identity', sessionId: item.sessionId };
      let sealed: Uint8Array | undefined;
      if (item.kind === 'file') {
        sealed = newStore.readRaw(ref);
      } else {
        const row = db.prepare('SELECT identity_sealed FROM recovery_sessions WHERE session_id = ?').get(item.sessionId) as { identity_sealed: Uint8Array | null } | undefined;
        sealed = row?.identity_sealed === null || row === undefined ? undefined : new Uint8Array(row.identity_sealed);
      }
      if (sealed === undefined) continue; // the session ended meanwhile
      const id = sealedKekId(sealed);
      if (id === toId) {
        alreadyDone++;
        // A crash may have come between moving a retained share and destroying its old erase key.
        if (ref.kind === 'retained-share') oldStore().eraseKeyOf(ref);
      } else {
        if (id !== fromId) {
          throw new AgentError('CORRUPT_FILE', `An object of this agent (${item.kind === 'file' ? item.path : `session ${item.sessionId.slice(0, 8)}`}) is sealed under neither the old KEK nor the new one (${String(id)}); it is damaged or from another agent. Move it aside, then run: agent kek rotate --resume`);
        }
        let fresh: Uint8Array;
        if (sealedVersion(sealed) === 2) {
          fresh = await oldStore().rewrapFor(ref, sealed, newStore);
        } else {
          const plain = await oldStore().open(ref, sealed);
          try {
            fresh = await newStore.seal(ref, plain);
          } finally {
            wipe(plain);
          }
          upgraded++;
        }
        if (item.kind === 'file') {
          writeFileAtomicSync(item.path, fresh, { mode: 0o600 });
        } else {
          const old = sealed;
          inTransaction(db, () => {
            db.prepare('UPDATE recovery_sessions SET identity_sealed = ? WHERE session_id = ? AND identity_sealed = ?').run(Buffer.from(fresh), item.sessionId, Buffer.from(old));
          });
        }
        if (ref.kind === 'retained-share') oldStore().eraseKeyOf(ref);
        rewrapped++;
      }
      options.onProgress?.({ phase: 'object', done: i + 1, total: items.length, rewrapped: id !== toId });
    }

    // The end steps, each idempotent: kek.json names the new key and retires the old, the meta row
    // follows, the audit entry, the legacy in-directory key file goes, the journal goes last.
    const current = configOf(j.to.provider === 'file' ? { provider: 'file', path: j.to.path } : j.to, next);
    const latest = readKekState(dir);
    const retired = [...(latest?.retired ?? state?.retired ?? [])];
    if (!retired.some((r) => r.id === fromId)) retired.push({ id: fromId, provider: j.from.provider, retiredAt: now() });
    writeKekState(dir, { version: 1, current, retired });
    inTransaction(db, () => {
      db.prepare("UPDATE meta SET value = ? WHERE name = 'kek_id'").run(toId);
      appendAudit(
        db,
        {
          event: 'configure',
          action: 'kek-rotate',
          result: 'ok',
          operator: options.operator,
          target: `kek:${toId}`,
          details: { phase: 'completed', from: fromId, to: toId, provider: current.provider, objects: items.length, rewrapped, upgraded, already_done: alreadyDone },
        },
        now(),
      );
    });
    let oldKeyAdvice: string;
    if (j.legacy) {
      removeFileDurable(join(dir, KEK_FILE));
      oldKeyAdvice = `The old key file inside the data directory (${join(dir, KEK_FILE)}) was removed. Copies of the directory made before now still carry it: they open only files from before this rotation, which this agent now refuses.`;
    } else if (j.from.provider === 'file') {
      oldKeyAdvice = `The old key file ${j.from.path} is no longer used: destroy it and its backups (shred -u ${j.from.path}). Until then it opens copies of files made before this rotation.`;
    } else {
      oldKeyAdvice = `The old HSM key "${j.from.keyLabel}" on token "${j.from.tokenLabel}" is no longer used: destroy it with the HSM's tools once you no longer need to open old backups of the data directory.`;
    }
    if (j.from.provider === 'file') removeEmptyDir(eraseDirOf(j.legacy ? join(dir, KEK_FILE) : j.from.path));
    if (j.to.provider === 'file') removeTempFiles(eraseDirOf(j.to.path));
    removeFileDurable(journalPath);
    options.onProgress?.({ phase: 'finished' });
    return { fromId, toId, to: current, rewrapped, alreadyDone, upgraded, resumed, oldKeyAdvice };
  } catch (error) {
    for (const k of opened.splice(0)) k.close();
    undo?.();
    throw error;
  } finally {
    for (const k of opened) k.close();
    db.close();
  }
}
