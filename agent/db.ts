/**
 * (A little over 500 lines: the schema and its append-only MIGRATIONS list must stay in one file,
 * in order, so each migration is read next to the tables it changes.)
 *
 * The agent's records in one SQLite database, `<data>/custos-agent.db` (better-sqlite3; WAL, foreign
 * keys, synchronous=FULL, secure_delete). Secrets are never stored here in the clear: the only
 * secret column, a recovery session's age identity, holds a KEK-sealed blob (agent/secret-store.ts)
 * and is set to NULL when the session ends or expires (a CHECK constraint ties the two together).
 *
 * Times in `*_at` columns are milliseconds since the Unix epoch, except `not_after`,
 * `approved_at` and `cooling_ends_at`, which are the protocol's seconds. Ids that are bytes on the wire (set_id,
 * session_id, fingerprints) are lower-case hex.
 *
 * Migrations are numbered; `PRAGMA user_version` records the last one applied. Add a migration,
 * never edit one that has shipped.
 */
import Database from 'better-sqlite3';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_SCHEMA_V1 as AUDIT_SCHEMA } from './audit/legacy-v1';
import { migrateAuditToOneChain } from './audit/migrate';
import { migrateKeyView } from './keyshare/key-view';
import { AgentError } from './errors';
import { existsSync as exists } from '../node/fs-atomic';

export const DB_FILE = 'custos-agent.db';

/** SQL, or a function for a migration that must compute (it runs inside the migration's transaction). */
const MIGRATIONS: readonly (string | ((db: Database.Database) => void))[] = [
  // 1: the initial schema
  `
CREATE TABLE meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE custodians (
  fingerprint   TEXT PRIMARY KEY CHECK (length(fingerprint) = 64),
  code          TEXT NOT NULL,
  card          BLOB NOT NULL,
  card_name     TEXT NOT NULL,
  sign_key      BLOB NOT NULL UNIQUE CHECK (length(sign_key) = 32),
  age_recipient TEXT NOT NULL UNIQUE,
  label         TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('security-team', 'independent-custodian', 'cold-storage')),
  enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  added_at      INTEGER NOT NULL,
  disabled_at   INTEGER
) STRICT;

CREATE TABLE approvers (
  fingerprint TEXT PRIMARY KEY CHECK (length(fingerprint) = 64),
  code        TEXT NOT NULL,
  card        BLOB NOT NULL,
  name        TEXT NOT NULL,
  sign_key    BLOB NOT NULL UNIQUE CHECK (length(sign_key) = 32),
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  added_at    INTEGER NOT NULL,
  disabled_at INTEGER
) STRICT;

CREATE TABLE nodes (
  key_id              TEXT NOT NULL,
  node_id             TEXT NOT NULL,
  curve               TEXT NOT NULL CHECK (curve IN ('secp256k1', 'ed25519')),
  party_index         INTEGER NOT NULL,
  parties             INTEGER NOT NULL,
  public_context      BLOB NOT NULL,
  public_context_hash BLOB NOT NULL CHECK (length(public_context_hash) = 32),
  keydata_sha256      BLOB NOT NULL CHECK (length(keydata_sha256) = 32),
  imported_at         INTEGER NOT NULL,
  restored_at         INTEGER,
  PRIMARY KEY (key_id, node_id)
) STRICT;

CREATE TABLE backup_sets (
  set_id          TEXT PRIMARY KEY CHECK (length(set_id) = 32),
  key_id          TEXT NOT NULL,
  node_id         TEXT NOT NULL,
  epoch           INTEGER NOT NULL CHECK (epoch >= 1),
  threshold       INTEGER NOT NULL,
  total           INTEGER NOT NULL,
  retain          INTEGER NOT NULL,
  manifest        BLOB NOT NULL,
  manifest_sha256 TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('active', 'superseded')),
  created_at      INTEGER NOT NULL,
  superseded_at   INTEGER,
  FOREIGN KEY (key_id, node_id) REFERENCES nodes (key_id, node_id),
  UNIQUE (key_id, node_id, epoch)
) STRICT;
CREATE UNIQUE INDEX backup_sets_one_active ON backup_sets (key_id, node_id) WHERE state = 'active';

CREATE TABLE deliveries (
  set_id          TEXT NOT NULL REFERENCES backup_sets (set_id),
  share_index     INTEGER NOT NULL CHECK (share_index BETWEEN 1 AND 255),
  custodian       TEXT NOT NULL REFERENCES custodians (fingerprint),
  envelope        BLOB NOT NULL,
  envelope_sha256 TEXT NOT NULL,
  envelope_file   TEXT,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'confirmed', 'rejected')),
  reason          TEXT,
  note            TEXT,
  receipt         BLOB,
  created_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  confirmed_at    INTEGER,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (set_id, share_index)
) STRICT;

CREATE TABLE retained_shares (
  set_id          TEXT NOT NULL REFERENCES backup_sets (set_id),
  share_index     INTEGER NOT NULL CHECK (share_index BETWEEN 1 AND 255),
  commitment      BLOB NOT NULL CHECK (length(commitment) = 32),
  state           TEXT NOT NULL CHECK (state IN ('held', 'soft-deleted', 'deleted')),
  created_at      INTEGER NOT NULL,
  soft_deleted_at INTEGER,
  deleted_at      INTEGER,
  PRIMARY KEY (set_id, share_index)
) STRICT;

CREATE TABLE recovery_sessions (
  session_id      TEXT PRIMARY KEY CHECK (length(session_id) = 32),
  incident_id     TEXT NOT NULL,
  key_id          TEXT NOT NULL,
  node_id         TEXT NOT NULL,
  set_id          TEXT NOT NULL REFERENCES backup_sets (set_id),
  epoch           INTEGER NOT NULL,
  mode            TEXT NOT NULL CHECK (mode IN ('mixed', 'external-only')),
  not_after       INTEGER NOT NULL,
  details         BLOB NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('awaiting-approvals', 'collecting', 'completed', 'failed', 'expired', 'cancelled')),
  recipient       TEXT NOT NULL,
  identity_sealed BLOB,
  request         BLOB,
  request_sha256  TEXT,
  operator        TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  ended_at        INTEGER,
  outcome         TEXT,
  CHECK ((state IN ('completed', 'failed', 'expired', 'cancelled')) = (identity_sealed IS NULL))
) STRICT;
CREATE INDEX recovery_sessions_node ON recovery_sessions (key_id, node_id);

CREATE TABLE approvals (
  session_id    TEXT NOT NULL REFERENCES recovery_sessions (session_id),
  approver      TEXT NOT NULL REFERENCES approvers (fingerprint),
  approval      BLOB NOT NULL,
  approver_name TEXT NOT NULL,
  approved_at   INTEGER NOT NULL,
  added_at      INTEGER NOT NULL,
  PRIMARY KEY (session_id, approver)
) STRICT;

CREATE TABLE submitted_exports (
  session_id    TEXT NOT NULL REFERENCES recovery_sessions (session_id),
  share_index   INTEGER NOT NULL CHECK (share_index BETWEEN 1 AND 255),
  custodian     TEXT NOT NULL REFERENCES custodians (fingerprint),
  export        BLOB NOT NULL,
  export_sha256 TEXT NOT NULL,
  submitted_at  INTEGER NOT NULL,
  PRIMARY KEY (session_id, share_index)
) STRICT;

CREATE TABLE drills (
  id          INTEGER PRIMARY KEY,
  key_id      TEXT NOT NULL,
  node_id     TEXT NOT NULL,
  set_id      TEXT,
  mode        TEXT NOT NULL CHECK (mode IN ('mixed', 'external-only')),
  ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
  duration_ms INTEGER NOT NULL,
  session_id  TEXT,
  note        TEXT,
  at          INTEGER NOT NULL
) STRICT;
CREATE INDEX drills_node ON drills (key_id, node_id, at);
` + AUDIT_SCHEMA,
  // 2: hard deletions with their two approvals (issue 5, "Deletion"), inventory challenges and
  // their verdicts (issue 5, "Inventory"), and the last inventory verdict of every external share.
  `
CREATE TABLE deletions (
  deletion_id     TEXT PRIMARY KEY CHECK (length(deletion_id) = 32),
  set_id          TEXT NOT NULL REFERENCES backup_sets (set_id),
  key_id          TEXT NOT NULL,
  node_id         TEXT NOT NULL,
  epoch           INTEGER NOT NULL,
  share_indexes   TEXT NOT NULL,
  purpose         TEXT NOT NULL CHECK (purpose IN ('zero-retention', 'superseded-set', 'reduce-retention')),
  details         BLOB NOT NULL,
  cooling_ends_at INTEGER NOT NULL,
  not_after       INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('awaiting-approvals', 'approved', 'completed', 'cancelled', 'expired')),
  operator        TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  ended_at        INTEGER,
  outcome         TEXT
) STRICT;
CREATE INDEX deletions_node ON deletions (key_id, node_id);

CREATE TABLE deletion_approvals (
  deletion_id   TEXT NOT NULL REFERENCES deletions (deletion_id),
  approver      TEXT NOT NULL REFERENCES approvers (fingerprint),
  approval      BLOB NOT NULL,
  approver_name TEXT NOT NULL,
  approved_at   INTEGER NOT NULL,
  added_at      INTEGER NOT NULL,
  PRIMARY KEY (deletion_id, approver)
) STRICT;

CREATE TABLE inventory_challenges (
  challenge_id     TEXT PRIMARY KEY CHECK (length(challenge_id) = 32),
  custodian        TEXT NOT NULL REFERENCES custodians (fingerprint),
  challenge        BLOB NOT NULL,
  challenge_sha256 TEXT NOT NULL,
  items            INTEGER NOT NULL,
  not_after        INTEGER NOT NULL,
  operator         TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  attestation      BLOB,
  answered_at      INTEGER,
  proven           INTEGER,
  missing          INTEGER,
  bad_proof        INTEGER,
  not_answered     INTEGER,
  CHECK ((attestation IS NULL) = (answered_at IS NULL))
) STRICT;
CREATE INDEX inventory_challenges_custodian ON inventory_challenges (custodian, created_at);

CREATE TABLE inventory_items (
  challenge_id TEXT NOT NULL REFERENCES inventory_challenges (challenge_id),
  set_id       TEXT NOT NULL REFERENCES backup_sets (set_id),
  share_index  INTEGER NOT NULL CHECK (share_index BETWEEN 1 AND 255),
  result       TEXT CHECK (result IN ('proven', 'missing', 'bad-proof', 'not-answered')),
  PRIMARY KEY (challenge_id, set_id, share_index)
) STRICT;
CREATE INDEX inventory_items_share ON inventory_items (set_id, share_index);

ALTER TABLE deliveries ADD COLUMN last_proven_at INTEGER;
ALTER TABLE deliveries ADD COLUMN inventory_result TEXT CHECK (inventory_result IN ('proven', 'missing', 'bad-proof', 'not-answered'));
ALTER TABLE deliveries ADD COLUMN inventory_at INTEGER;
`,
  // 3: the one audit chain shared with the custodian app, migrated in place and verified (agent/audit/migrate.ts)
  (db) => {
    migrateAuditToOneChain(db, Date.now());
  },
  // 4 (H4, issue 11 §2–§3): the key-level view per node (tss-lib t, group key fingerprint) backfilled
  // from the stored public context, and a backup set's stale status (agent/keyshare/key-view.ts)
  (db) => {
    migrateKeyView(db);
  },
  // 5 (H1, issue 9 §1b): the approver roster's versions, one row per change with the approvers'
  // signed roster changes (agent/registry/roster.ts); approvers registered before are backfilled
  // as 'legacy' changes in the order they happened
  `
CREATE TABLE approver_roster (
  version    INTEGER PRIMARY KEY CHECK (version >= 1),
  action     TEXT NOT NULL CHECK (action IN ('add', 'disable')),
  target     TEXT NOT NULL REFERENCES approvers (fingerprint),
  rule       TEXT NOT NULL CHECK (rule IN ('legacy', 'setup', 'quorum')),
  approvals  BLOB,
  operator   TEXT NOT NULL,
  changed_at INTEGER NOT NULL,
  CHECK ((rule = 'quorum') = (approvals IS NOT NULL))
) STRICT;
INSERT INTO approver_roster (version, action, target, rule, approvals, operator, changed_at)
  SELECT row_number() OVER (ORDER BY at, kind, fingerprint), kind, fingerprint, 'legacy', NULL, 'migration', at FROM (
    SELECT fingerprint, 'add' AS kind, added_at AS at FROM approvers
    UNION ALL SELECT fingerprint, 'disable', disabled_at FROM approvers WHERE disabled_at IS NOT NULL
  );
`,
  // 6 (issue 13): a session's optional free-text incident title, as in its signed details; NULL
  // for every session opened before (and without one), so existing databases read unchanged
  `ALTER TABLE recovery_sessions ADD COLUMN incident_title TEXT CHECK (incident_title IS NULL OR length(incident_title) BETWEEN 1 AND 200);`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (and with `create`, first creates with mode 0600) the agent database, sets its pragmas and
 * applies pending migrations. SQLite gives the -wal and -shm files the database file's mode.
 */
export function openDatabase(dataDir: string, options: { create?: boolean } = {}): Database.Database {
  const path = join(dataDir, DB_FILE);
  if (!exists(path)) {
    if (options.create !== true) {
      throw new AgentError('NOT_FOUND', `The agent database ${DB_FILE} is missing: this is not an initialised agent data directory.`);
    }
    closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  }
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new AgentError('FAILED_PRECONDITION', `The agent database has schema version ${String(current)}; this build knows up to ${String(MIGRATIONS.length)}. Use a newer agent.`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const step = MIGRATIONS[v] ?? '';
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${String(v + 1)}`);
    }).immediate();
  }
}

/** Runs `fn` in an IMMEDIATE transaction (takes the write lock first, so concurrent writers queue). */
export function inTransaction<T>(db: Database.Database, fn: () => T): T {
  return db.inTransaction ? fn() : db.transaction(fn).immediate();
}

// Row shapes, as stored.

export interface CustodianRow {
  fingerprint: string;
  code: string;
  card: Uint8Array;
  card_name: string;
  sign_key: Uint8Array;
  age_recipient: string;
  label: string;
  role: 'security-team' | 'independent-custodian' | 'cold-storage';
  enabled: 0 | 1;
  added_at: number;
  disabled_at: number | null;
}

export interface ApproverRow {
  fingerprint: string;
  code: string;
  card: Uint8Array;
  name: string;
  sign_key: Uint8Array;
  enabled: 0 | 1;
  added_at: number;
  disabled_at: number | null;
}

export interface NodeRow {
  key_id: string;
  node_id: string;
  curve: 'secp256k1' | 'ed25519';
  party_index: number;
  parties: number;
  public_context: Uint8Array;
  public_context_hash: Uint8Array;
  keydata_sha256: Uint8Array;
  imported_at: number;
  restored_at: number | null;
  /** tss-lib threshold t (t+1 parties sign), from the public context; NULL if it could not be derived. */
  tss_threshold: number | null;
  /** Hex SHA-256 of the group public key's standard encoding (agent/keyshare/key-view.ts). */
  group_key_fingerprint: string | null;
}

export interface BackupSetRow {
  set_id: string;
  key_id: string;
  node_id: string;
  epoch: number;
  threshold: number;
  total: number;
  retain: number;
  manifest: Uint8Array;
  manifest_sha256: string;
  state: 'active' | 'superseded';
  created_at: number;
  superseded_at: number | null;
  /** Set when a resharing replaced the node's keydata: the set's shares are of a keydata the node no longer holds. */
  stale_reason: 'reshared' | null;
  stale_at: number | null;
  stale_replaced_by: string | null;
}

export interface DeliveryRow {
  set_id: string;
  share_index: number;
  custodian: string;
  envelope: Uint8Array;
  envelope_sha256: string;
  envelope_file: string | null;
  status: 'pending' | 'delivered' | 'confirmed' | 'rejected';
  reason: string | null;
  note: string | null;
  receipt: Uint8Array | null;
  created_at: number;
  delivered_at: number | null;
  confirmed_at: number | null;
  updated_at: number;
  /** Last time (ms) the custodian proved possession in an inventory attestation. */
  last_proven_at: number | null;
  /** The latest inventory verdict for this share, and when (ms) it was recorded. */
  inventory_result: InventoryResult | null;
  inventory_at: number | null;
}

export interface RetainedShareRow {
  set_id: string;
  share_index: number;
  commitment: Uint8Array;
  state: 'held' | 'soft-deleted' | 'deleted';
  created_at: number;
  soft_deleted_at: number | null;
  deleted_at: number | null;
}

export interface SessionRow {
  session_id: string;
  incident_id: string;
  /** The optional free-text title (migration 6); null when the session has none. */
  incident_title: string | null;
  key_id: string;
  node_id: string;
  set_id: string;
  epoch: number;
  mode: 'mixed' | 'external-only';
  not_after: number;
  details: Uint8Array;
  state: 'awaiting-approvals' | 'collecting' | 'completed' | 'failed' | 'expired' | 'cancelled';
  recipient: string;
  identity_sealed: Uint8Array | null;
  request: Uint8Array | null;
  request_sha256: string | null;
  operator: string;
  created_at: number;
  ended_at: number | null;
  outcome: string | null;
}

export interface ApprovalRow {
  session_id: string;
  approver: string;
  approval: Uint8Array;
  approver_name: string;
  approved_at: number;
  added_at: number;
}

export interface ExportRow {
  session_id: string;
  share_index: number;
  custodian: string;
  export: Uint8Array;
  export_sha256: string;
  submitted_at: number;
}

export interface DrillRow {
  id: number;
  key_id: string;
  node_id: string;
  set_id: string | null;
  mode: 'mixed' | 'external-only';
  ok: 0 | 1;
  duration_ms: number;
  session_id: string | null;
  note: string | null;
  at: number;
}

export type InventoryResult = 'proven' | 'missing' | 'bad-proof' | 'not-answered';

export interface DeletionRow {
  deletion_id: string;
  set_id: string;
  key_id: string;
  node_id: string;
  epoch: number;
  /** JSON array of share indexes, increasing. */
  share_indexes: string;
  purpose: 'zero-retention' | 'superseded-set' | 'reduce-retention';
  /** Canonical CBOR of the deletion details the approvers sign. */
  details: Uint8Array;
  /** Seconds (protocol time). */
  cooling_ends_at: number;
  not_after: number;
  state: 'awaiting-approvals' | 'approved' | 'completed' | 'cancelled' | 'expired';
  operator: string;
  created_at: number;
  ended_at: number | null;
  outcome: string | null;
}

export interface DeletionApprovalRow {
  deletion_id: string;
  approver: string;
  approval: Uint8Array;
  approver_name: string;
  approved_at: number;
  added_at: number;
}

export interface ChallengeRow {
  challenge_id: string;
  custodian: string;
  challenge: Uint8Array;
  challenge_sha256: string;
  items: number;
  /** Seconds (protocol time). */
  not_after: number;
  operator: string;
  created_at: number;
  attestation: Uint8Array | null;
  answered_at: number | null;
  proven: number | null;
  missing: number | null;
  bad_proof: number | null;
  not_answered: number | null;
}
