/**
 * The agent's data directory (issue 3): creating one (`init`: KEK, identity, card, API token,
 * database) and opening one (permission checks, the identity against its card and the database).
 * Owns the identity rows of the `meta` table (agent_fingerprint, agent_sign_key, kek_id,
 * created_at). See agent/service.ts for the directory layout.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { constantTimeEqual, toBase64Url, toHex, utf8, wipe } from '../../shared/bytes';
import { createAgentIdentity, makeAgentCard, openAgentCard, signingKeyFromSeed } from '../../shared/protocol';
import type { InitResult } from '../api';
import { appendAudit } from '../audit/log';
import { inTransaction, openDatabase } from '../db';
import { AgentError } from '../errors';
import { ensureDir, existsSync as exists, writeFileAtomicSync as writeFileAtomic } from '../../node/fs-atomic';
import { assertPrivateFile } from '../../node/private-file';
import { initKek, KEK_CONFIG_FILE, openKek, type KekChoice } from '../kek/config';
import type { KekProvider } from '../kek/provider';
import { TokenBuckets, type RateLimit } from '../rate-limit';
import { SecretStore } from '../secret-store';
import { AgentCore } from './context';
import { checkOperator, defaultOperator, sec } from './util';

export const CARD_FILE = 'agent-card.cbor';
export const TOKEN_FILE = 'api.token';

export interface InitOptions {
  /** The name on the agent card (default "custos-agent"). */
  readonly name?: string;
  readonly now?: () => number;
  readonly kek?: KekProvider;
  /**
   * Which KEK to create when no provider is given (recorded in kek.json; agent/kek/config.ts).
   * Default: a new key file beside the data directory, `<data-dir>.kek.key`, never inside it.
   */
  readonly kekChoice?: KekChoice;
  readonly operator?: string;
}

export interface CoreOptions {
  /** Milliseconds since the Unix epoch (default Date.now); tests pass a controllable clock. */
  readonly now?: () => number;
  /** Default: the KEK kek.json names (agent/kek/config.ts), or a legacy `<data>/kek.key`. */
  readonly kek?: KekProvider;
  /** Default operator name for the audit log (default: the OS user name). */
  readonly operator?: string;
  /** Token bucket for the recovery operations of the `Agent` facade; none by default (agent/rate-limit.ts). */
  readonly recoveryRateLimit?: RateLimit | false;
}

/** An opened data directory: the modules' context and the agent's public identity. */
export interface OpenedCore {
  readonly core: AgentCore;
  readonly card: Uint8Array;
  readonly fingerprint: string;
  readonly code: string;
}

/**
 * Creates a new data directory: KEK (unless a provider is given), agent identity (Ed25519 seed,
 * KEK-sealed), agent card, API token (0600) and the database. Refuses (CONFLICT) a directory that
 * already holds an agent.
 */
export async function initDataDir(dataDir: string, options: InitOptions = {}): Promise<InitResult> {
  const dir = resolve(dataDir);
  const now = options.now ?? Date.now;
  for (const f of ['kek.key', KEK_CONFIG_FILE, 'custos-agent.db', CARD_FILE, TOKEN_FILE, 'agent']) {
    if (exists(join(dir, f))) throw new AgentError('CONFLICT', `${dir} already holds an agent (${f} exists); refusing to initialise over it.`);
  }
  ensureDir(dir, 0o700);
  const kek = options.kek ?? initKek(dir, options.kekChoice);
  const db = openDatabase(dir, { create: true });
  try {
    const store = new SecretStore(dir, kek);
    const identity = createAgentIdentity(options.name ?? 'custos-agent');
    await store.write({ kind: 'agent-identity' }, identity.signing.seed, { noOverwrite: true });
    const card = makeAgentCard(identity, sec(now()));
    writeFileAtomic(join(dir, CARD_FILE), card, { mode: 0o644, noOverwrite: true });
    const token = toBase64Url(new Uint8Array(randomBytes(32)));
    writeFileAtomic(join(dir, TOKEN_FILE), utf8(token), { mode: 0o600, noOverwrite: true });
    const opened = openAgentCard(card);
    const fingerprint = toHex(opened.fingerprint);
    wipe(identity.signing.seed);
    inTransaction(db, () => {
      const set = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)');
      set.run('agent_fingerprint', fingerprint);
      set.run('agent_sign_key', toHex(opened.body.sign_key));
      set.run('kek_id', kek.id);
      set.run('created_at', String(now()));
      appendAudit(
        db,
        {
          event: 'init',
          action: 'data-directory',
          result: 'ok',
          operator: options.operator === undefined ? defaultOperator() : checkOperator(options.operator),
          target: `agent:${fingerprint}`,
          details: { name: opened.body.name, kek_id: kek.id, code: opened.code },
        },
        now(),
      );
    });
    return { dataDir: dir, fingerprint, code: opened.code, cardFile: join(dir, CARD_FILE), tokenFile: join(dir, TOKEN_FILE), kekId: kek.id };
  } finally {
    db.close();
    if (options.kek === undefined) kek.close();
  }
}

/** Opens an initialised data directory (checks the KEK and token file permissions, the identity). */
export async function openDataDir(dataDir: string, options: CoreOptions = {}): Promise<OpenedCore> {
  const dir = resolve(dataDir);
  if (!exists(dir)) throw new AgentError('NOT_FOUND', `The agent data directory ${dir} does not exist; run init first.`);
  const kek = options.kek ?? openKek(dir);
  let db: Database.Database | undefined;
  try {
    // The token file is checked here (a file readable by others refuses to open); the RPC
    // server reads it with readApiToken.
    assertPrivateFile(join(dir, TOKEN_FILE), TOKEN_FILE);
    db = openDatabase(dir);
    const store = new SecretStore(dir, kek);
    const seed = await store.read({ kind: 'agent-identity' });
    const signing = signingKeyFromSeed(seed);
    wipe(seed);
    let card: Uint8Array;
    try {
      card = new Uint8Array(readFileSync(join(dir, CARD_FILE)));
    } catch (error) {
      throw new AgentError('NOT_FOUND', `The agent card ${CARD_FILE} is missing.`, { cause: error });
    }
    const opened = openAgentCard(card);
    if (!constantTimeEqual(opened.body.sign_key, signing.publicKey)) {
      throw new AgentError('CORRUPT_FILE', `${CARD_FILE} does not belong to this agent's identity.`);
    }
    const fingerprint = toHex(opened.fingerprint);
    const recorded = db.prepare("SELECT value FROM meta WHERE name = 'agent_fingerprint'").get() as { value: string } | undefined;
    if (recorded?.value !== fingerprint) throw new AgentError('CORRUPT_FILE', 'The database belongs to another agent identity.');
    const now = options.now ?? Date.now;
    const limit = options.recoveryRateLimit ?? false;
    const core = new AgentCore({
      dataDir: dir,
      db,
      store,
      kek,
      ownsKek: options.kek === undefined,
      signing,
      now,
      operator: options.operator === undefined ? defaultOperator() : checkOperator(options.operator),
      limiter: limit === false ? undefined : new TokenBuckets(limit, now),
    });
    return { core, card, fingerprint, code: opened.code };
  } catch (error) {
    db?.close();
    if (options.kek === undefined) kek.close();
    throw error;
  }
}

/** Reads `<data>/api.token` (refusing a file readable by group or others): for clients. */
export function readApiToken(dataDir: string): string {
  const path = join(resolve(dataDir), TOKEN_FILE);
  assertPrivateFile(path, TOKEN_FILE);
  return readFileSync(path, 'utf8').trim();
}
