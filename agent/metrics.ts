/**
 * (A little over 500 lines: every metric family is declared next to the incremental refresh that
 * keeps it current, so a series and how it is kept up to date are reviewed together; docs/metrics.md
 * lists them.)
 *
 * Prometheus metrics of one agent (issue 5, "Metrics"; seeds SOP §8 "监控与告警"), with
 * `prom-client`: one registry per agent, served on its own loopback HTTP/1.1 port by
 * {@link startMetricsServer} (`npm run agent -- serve --metrics 127.0.0.1:PORT`). docs/metrics.md
 * lists every metric and what to alert on.
 *
 * Three sources, refreshed when scraped ({@link AgentMetrics.render}):
 * - the agent's state (gauges): per key and node, the active backup set's coverage, the
 *   recoverable flags, the delivery confirmation ratio, the last drill, zero retention and the
 *   inventory (`custos_inventory_*`: shares proven lately, failed proofs, overdue custodians);
 *   sessions, registries, open deletions.
 * - the agent's audit log (counters): read incrementally from a cursor, so what the CLI or a drill
 *   did in another process against the same data directory is counted too: drills and their
 *   durations, recovery attempts by result, delivery failures by reason, every event by result.
 * - the RPC server's observer hooks (counters): authentication failures, refused calls by code,
 *   calls and their durations. These count what this server process saw since it started.
 *
 * Nothing secret is exported: no share, key, token or file content. Key and node ids ARE label
 * values (they name what is at risk, which is the point), so the endpoint is loopback-only and
 * whoever may scrape it learns the agent's inventory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_CODES } from '../shared/errors';
import { REJECTION_REASONS } from '../shared/protocol/receipt';
import type { NodeRecord } from './api';
import type { AuditEntry } from './audit/log';
import { AGENT_ERROR_CODES, AgentError } from './errors';
import type { RpcLogger, RpcObserver } from './rpc/log';
import type { Agent } from './service';

/** What the metrics read from the agent (read-only calls; a test can pass something narrower). */
export type MetricsSource = Pick<
  Agent,
  'fingerprint' | 'kekId' | 'listNodes' | 'getBackupStatus' | 'queryShareStatus' | 'listSessions' | 'listCustodians' | 'listApprovers' | 'auditEntries'
> &
  /** Optional so a narrower source still works; without them the inventory and deletion series are absent. */
  Partial<Pick<Agent, 'inventoryStatus' | 'inventoryCustodians' | 'listDeletions'>> & {
    /** When given, sessions are counted by SQL instead of listing every session ever held. */
    readonly capabilities?: {
      readonly sessions: Pick<Agent['capabilities']['sessions'], 'countByState' | 'nowMs'>;
      readonly backup?: Pick<Agent['capabilities']['backup'], 'countByStatus'>;
    };
  };

export interface MetricsOptions {
  /** Also export prom-client's process and Node.js metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** Where a failed refresh is reported (default: nowhere; the error counter still counts it). */
  readonly logger?: Pick<RpcLogger, 'warn'>;
  /**
   * Which per-node families to export: `all` (default, the 22 of docs/metrics.md) or `alerts`, only
   * the 12 an alert of deploy/prometheus/custos-rules.yml reads ({@link ALERT_FAMILIES}), for a
   * fleet that must cut series (docs/metrics.md, "Cardinality").
   */
  readonly perNode?: 'all' | 'alerts';
}

/** The per-node families an alert needs: each alert names the node at risk, so these stay per node. */
export const ALERT_FAMILIES: ReadonlySet<string> = new Set([
  'custos_backup_present',
  'custos_backup_recoverable',
  'custos_backup_server_shares_held',
  'custos_backup_external_only_recoverable',
  'custos_backup_external_rejected',
  'custos_backup_zero_retention',
  'custos_delivery_confirmation_ratio',
  'custos_drill_last_timestamp_seconds',
  'custos_drill_last_success',
  'custos_inventory_external_failed',
  'custos_inventory_recoverable',
  'custos_inventory_overdue_custodians',
]);

const KNOWN_CODES = new Set<string>([...ERROR_CODES, ...AGENT_ERROR_CODES]);
const REJECTIONS = new Set<string>(REJECTION_REASONS);
const AUDIT_BATCH = 5000;

/** A label value from a closed set: a known error code, or OTHER (bounded cardinality). */
function codeLabel(value: unknown): string {
  return typeof value === 'string' && KNOWN_CODES.has(value) ? value : 'OTHER';
}

/** The code at the front of an audit reason ("<CODE>: <sentence>"). */
function reasonCode(reason: string | undefined): string {
  const m = reason === undefined ? null : /^([A-Z][A-Z0-9_]*):/.exec(reason);
  return codeLabel(m?.[1]);
}

/** RPC-layer codes and gRPC status names are upper-case words; anything else is OTHER. */
function rpcLabel(value: string, pattern: RegExp): string {
  return value.length <= 64 && pattern.test(value) ? value : 'OTHER';
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly #agent: MetricsSource;
  readonly #logger: Pick<RpcLogger, 'warn'> | undefined;
  /** The next audit sequence number to read. */
  #cursor = 0;
  /** When each node's per-node series were last computed, and whether it had an active set. */
  readonly #rows = new Map<string, { at: number; activeSet: boolean }>();
  /** Nodes, keys, or everything named by audit entries since the last refresh. */
  readonly #dirty = new Set<string>();
  readonly #dirtyKeys = new Set<string>();
  #allDirty = false;
  /**
   * The per-node families, written as exposition text directly (not prom-client gauges: at 5,000
   * nodes × 22 families rendering 110,000 label sets through prom-client took most of a scrape).
   */
  readonly #perNode: readonly { readonly name: string; readonly help: string }[];
  readonly #alertsOnly: boolean;
  /**
   * Each node's sample lines, in the order of {@link #perNode} (undefined: no sample), made when the
   * node's values are computed, so a scrape only joins them.
   */
  readonly #nodeSamples = new Map<string, { readonly labels: string; lines: readonly (string | undefined)[] }>();

  // ── state gauges, agent-wide ──
  readonly #invCustodiansOverdue: Gauge<'reason'>;
  readonly #invChallenges: Gauge<'state'>;
  readonly #deletionsOpen: Gauge<'state'>;
  readonly #nodes: Gauge;
  // ── the key-level view (issue 11 §3), per key ──
  readonly #keyThreshold: Gauge<'key_id'>;
  readonly #keyParties: Gauge<'key_id'>;
  readonly #keyInfo: Gauge<'key_id' | 'curve' | 'group_key_fingerprint'>;
  readonly #sets: Gauge<'state'>;
  readonly #sessions: Gauge<'state'>;
  readonly #custodians: Gauge<'enabled'>;
  readonly #approvers: Gauge<'enabled'>;
  readonly #refreshSeconds: Gauge;
  readonly #refreshErrors: Counter;
  // ── audit-log counters ──
  readonly #auditEvents: Counter<'event' | 'result'>;
  readonly #drills: Counter<'result'>;
  readonly #drillDuration: Histogram;
  readonly #recoveries: Counter<'result'>;
  readonly #deliveryFailures: Counter<'kind' | 'reason'>;
  // ── RPC observer counters ──
  readonly #authFailures: Counter<'reason'>;
  readonly #refused: Counter<'method' | 'code'>;
  readonly #requests: Counter<'method' | 'status'>;
  readonly #requestSeconds: Histogram<'method'>;

  constructor(agent: MetricsSource, options: MetricsOptions = {}) {
    this.#agent = agent;
    this.#logger = options.logger;
    this.#alertsOnly = options.perNode === 'alerts';
    const registers = [this.registry];
    const nodeGauge = (name: string, help: string): { name: string; help: string } => ({ name, help });

    new Gauge({ name: 'custos_agent_info', help: 'Always 1; the labels name this agent (public fingerprint and KEK provider id).', labelNames: ['fingerprint', 'kek_id'], registers }).set(
      { fingerprint: agent.fingerprint, kek_id: agent.kekId },
      1,
    );

    const present = nodeGauge('custos_backup_present', '1 when the node has an active backup set, 0 when it was imported but never backed up.');
    const epoch = nodeGauge('custos_backup_epoch', 'Epoch of the active backup set.');
    const threshold = nodeGauge('custos_backup_threshold', 'Shares needed to recover (Shamir threshold) of the active backup set.');
    const total = nodeGauge('custos_backup_shares_total', 'Shares in the active backup set (server-retained plus external).');
    const serverHeld = nodeGauge('custos_backup_server_shares_held', 'Server-retained shares of the active set still held (not soft-deleted or deleted).');
    const external = nodeGauge('custos_backup_external_shares', 'External shares of the active set (one per custodian).');
    const delivered = nodeGauge('custos_backup_external_delivered', 'External shares handed out (delivered or confirmed).');
    const confirmed = nodeGauge('custos_backup_external_confirmed', 'External shares whose custodian signed an accepting receipt.');
    const rejected = nodeGauge('custos_backup_external_rejected', 'External shares whose custodian signed a rejecting receipt.');
    const recoverable = nodeGauge('custos_backup_recoverable', '1 when server-held plus confirmed external shares reach the threshold; 0 otherwise (also when there is no backup).');
    const externalOnly = nodeGauge('custos_backup_external_only_recoverable', '1 when confirmed external shares alone reach the threshold (what zero retention needs).');
    const confirmation = nodeGauge('custos_delivery_confirmation_ratio', 'Confirmed external shares / external shares of the active set (1 when the set has none).');
    const drillAt = nodeGauge('custos_drill_last_timestamp_seconds', 'Unix time of the last recovery drill of the node; 0 when it never had one.');
    const drillOk = nodeGauge('custos_drill_last_success', '1 when the last drill of the node passed, 0 when it failed or there was none.');
    const drillSeconds = nodeGauge('custos_drill_last_duration_seconds', 'Duration of the last drill of the node.');
    const softDeleted = nodeGauge('custos_backup_server_shares_soft_deleted', 'Server-retained shares of the active set that are soft-deleted (cooling off; they can still be rolled back).');
    const zeroRetention = nodeGauge('custos_backup_zero_retention', '1 when the server holds no share of the node any more (any set): zero retention.');
    const invAttested = nodeGauge('custos_inventory_external_attested', 'External shares of the active set whose custodian proved possession within the inventory maximum age.');
    const invFailed = nodeGauge('custos_inventory_external_failed', "External shares whose custodian's latest attestation reported them missing or carried a proof that does not verify.");
    const invRecoverable = nodeGauge('custos_inventory_recoverable', '1 when server-held shares plus external shares proven lately reach the threshold.');
    const invOverdue = nodeGauge('custos_inventory_overdue_custodians', 'Custodians of the active set that are overdue: a challenge expired unanswered, or their last proof is older than the maximum age.');
    const invOldestProof = nodeGauge(
      'custos_inventory_oldest_proof_timestamp_seconds',
      'Unix time of the oldest last proof of possession among the delivered external shares of the active set; 0 when one was never proven.',
    );
    this.#perNode = [
      present,
      epoch,
      threshold,
      total,
      serverHeld,
      external,
      delivered,
      confirmed,
      rejected,
      recoverable,
      externalOnly,
      confirmation,
      drillAt,
      drillOk,
      drillSeconds,
      softDeleted,
      zeroRetention,
      invAttested,
      invFailed,
      invRecoverable,
      invOverdue,
      invOldestProof,
    ];

    this.#nodes = new Gauge({ name: 'custos_nodes', help: 'Key shares (key and node) imported into this agent.', registers });
    this.#keyThreshold = new Gauge({ name: 'custos_key_tss_threshold', help: 'tss-lib threshold t of the key (t+1 parties sign), derived from its public keydata.', labelNames: ['key_id'], registers });
    this.#keyParties = new Gauge({ name: 'custos_key_parties', help: "Parties of the key (tss-lib Ks), every agent's nodes together.", labelNames: ['key_id'], registers });
    this.#keyInfo = new Gauge({
      name: 'custos_key_info',
      help: 'Nodes of the key this agent holds, by curve and group public key fingerprint (hex SHA-256 of its standard encoding).',
      labelNames: ['key_id', 'curve', 'group_key_fingerprint'],
      registers,
    });
    this.#sets = new Gauge({ name: 'custos_backup_sets', help: 'Backup sets by status: active, superseded (by a rotation), stale (a resharing replaced the keydata they back up).', labelNames: ['state'], registers });
    this.#sessions = new Gauge({ name: 'custos_recovery_sessions', help: 'Recovery sessions by state.', labelNames: ['state'], registers });
    this.#custodians = new Gauge({ name: 'custos_custodians', help: 'Registered custodians.', labelNames: ['enabled'], registers });
    this.#approvers = new Gauge({ name: 'custos_approvers', help: 'Registered approvers.', labelNames: ['enabled'], registers });
    this.#invCustodiansOverdue = new Gauge({
      name: 'custos_inventory_custodians_overdue',
      help: 'Custodians overdue in the inventory across every active set, by reason (challenge-unanswered, attestation-stale).',
      labelNames: ['reason'],
      registers,
    });
    this.#invChallenges = new Gauge({
      name: 'custos_inventory_last_challenges',
      help: "Custodians by the state of their latest inventory challenge: answered, open (not yet due), expired (unanswered), none.",
      labelNames: ['state'],
      registers,
    });
    this.#deletionsOpen = new Gauge({ name: 'custos_deletions', help: 'Hard deletions of server shares still open, by state (awaiting-approvals, approved).', labelNames: ['state'], registers });
    this.#refreshSeconds = new Gauge({ name: 'custos_metrics_refresh_seconds', help: 'How long reading the agent state for this scrape took.', registers });
    this.#refreshErrors = new Counter({ name: 'custos_metrics_refresh_errors_total', help: 'Scrapes whose refresh from the agent state failed (values may be stale).', registers });

    this.#auditEvents = new Counter({ name: 'custos_audit_events_total', help: 'Audit log entries by event and result (ok, refused, failed).', labelNames: ['event', 'result'], registers });
    this.#drills = new Counter({ name: 'custos_drills_total', help: 'Recovery drills by result (success, failure).', labelNames: ['result'], registers });
    this.#drillDuration = new Histogram({
      name: 'custos_drill_duration_seconds',
      help: 'Duration of drills that recorded one (passed session drills and drills recorded by the drill tool).',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.#recoveries = new Counter({ name: 'custos_recovery_attempts_total', help: 'Recovery completions (not drills) by result: success, or the refusal code.', labelNames: ['result'], registers });
    this.#deliveryFailures = new Counter({
      name: 'custos_delivery_failures_total',
      help: 'Delivery failures: kind custodian_rejected (reason: the custodian\'s rejection reason), receipt_refused or delivery_refused (reason: the agent\'s refusal code).',
      labelNames: ['kind', 'reason'],
      registers,
    });

    this.#authFailures = new Counter({ name: 'custos_rpc_auth_failures_total', help: 'RPC calls without a valid bearer token, by reason (missing, malformed, wrong, revoked).', labelNames: ['reason'], registers });
    this.#refused = new Counter({ name: 'custos_rpc_refused_total', help: 'Refused RPC calls and refusals inside successful responses, by method and code.', labelNames: ['method', 'code'], registers });
    this.#requests = new Counter({ name: 'custos_rpc_requests_total', help: 'RPC calls by method and gRPC status.', labelNames: ['method', 'status'], registers });
    this.#requestSeconds = new Histogram({ name: 'custos_rpc_request_duration_seconds', help: 'RPC call duration by method.', labelNames: ['method'], buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers });

    // Series that alerts look at exist from the start, at 0, rather than appearing on first use.
    this.#refreshErrors.inc(0);
    for (const result of ['success', 'failure']) this.#drills.inc({ result }, 0);
    this.#recoveries.inc({ result: 'success' }, 0);
    for (const reason of ['missing', 'malformed', 'wrong', 'revoked']) this.#authFailures.inc({ reason }, 0);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The hooks to hand to the RPC server (`serveAgent(agent, { observer })`). */
  get observer(): RpcObserver {
    const method = (m: string): string => rpcLabel(m, /^[A-Za-z][A-Za-z0-9]*$/);
    return {
      authFailure: (e) => {
        this.#authFailures.inc({ reason: rpcLabel(e.reason, /^[a-z]+$/) });
      },
      refused: (e) => {
        this.#refused.inc({ method: method(e.method), code: rpcLabel(e.reason, /^[A-Z][A-Z0-9_]*$/) });
      },
      completed: (e) => {
        this.#requests.inc({ method: method(e.method), status: rpcLabel(e.status, /^[A-Z][A-Z_]*$/) });
        this.#requestSeconds.observe({ method: method(e.method) }, Math.max(0, e.durationMs) / 1000);
      },
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the agent's state and new audit entries, then renders the exposition text. */
  async render(): Promise<string> {
    this.refresh();
    const rest = await this.registry.metrics();
    return `${this.#perNodeText()}${rest}`;
  }

  /** The per-node families in the text exposition format (version 0.0.4), one family after another. */
  #perNodeText(): string {
    const rows = [...this.#nodeSamples.values()];
    const parts: string[] = [];
    this.#perNode.forEach((f, i) => {
      if (this.#alertsOnly && !ALERT_FAMILIES.has(f.name)) return;
      parts.push(`# HELP ${f.name} ${helpText(f.help)}\n# TYPE ${f.name} gauge\n`);
      for (const r of rows) {
        const line = r.lines[i];
        if (line !== undefined) parts.push(line);
      }
    });
    return parts.join('');
  }

  /**
   * Brings every gauge and audit counter up to date. A failure (e.g. the database is busy) is
   * counted and logged; the previous values stay.
   */
  refresh(): void {
    const started = performance.now();
    try {
      this.#readAudit();
      this.#readState();
    } catch (error) {
      this.#refreshErrors.inc();
      this.#logger?.warn('metrics: refreshing from the agent state failed', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      this.#refreshSeconds.set((performance.now() - started) / 1000);
    }
  }

  #readAudit(): void {
    for (;;) {
      const batch = this.#agent.auditEntries({ fromSeq: this.#cursor, limit: AUDIT_BATCH });
      for (const { entry } of batch) {
        this.#count(entry);
        this.#cursor = entry.seq + 1;
      }
      if (batch.length < AUDIT_BATCH) return;
    }
  }

  #count(e: AuditEntry): void {
    this.#auditEvents.inc({ event: e.event, result: e.result });
    if (e.key_id === undefined) this.#allDirty = true;
    else if (e.node_id === undefined) this.#dirtyKeys.add(e.key_id);
    else this.#dirty.add(nodeKey(e.key_id, e.node_id));
    const details = e.details ?? {};
    if (e.event === 'drill' && (e.action === 'record' || e.action === 'session-drill')) {
      this.#drills.inc({ result: e.result === 'ok' ? 'success' : 'failure' });
      const ms = details['duration_ms'];
      if (typeof ms === 'number' && ms >= 0) this.#drillDuration.observe(ms / 1000);
    } else if (e.event === 'recover' && e.action === 'session-complete') {
      this.#recoveries.inc({ result: e.result === 'ok' ? 'success' : reasonCode(e.reason) });
    } else if (e.event === 'confirm' && e.action === 'receipt') {
      if (e.result === 'ok' && details['status'] === 'rejected') {
        const reason = details['custodian_reason'];
        this.#deliveryFailures.inc({ kind: 'custodian_rejected', reason: typeof reason === 'string' && REJECTIONS.has(reason) ? reason : 'OTHER' });
      } else if (e.result !== 'ok') {
        this.#deliveryFailures.inc({ kind: 'receipt_refused', reason: reasonCode(e.reason) });
      }
    } else if (e.event === 'deliver' && e.result !== 'ok') {
      this.#deliveryFailures.inc({ kind: 'delivery_refused', reason: reasonCode(e.reason) });
    }
  }

  /**
   * Per-node rows are recomputed incrementally (issue 10: a full pass costs about 0.5 ms a node):
   * every node on the first refresh; then the nodes an audit entry since the last refresh names
   * (an entry without a key marks every node, e.g. a settings change or an inventory attestation,
   * and those are recomputed oldest first within {@link NODE_BUDGET_MS}); and, within the same
   * budget, rows older than {@link NODE_MAX_AGE_MS}, so what changes with the clock alone (an
   * overdue custodian, an expired challenge) shows within minutes.
   */
  #readState(): void {
    const a = this.#agent;
    const nodes = a.listNodes();
    // The agent's clock, so a row's age follows the clock the inventory's verdicts use.
    const nowMs = a.capabilities?.sessions.nowMs() ?? Date.now();
    const first = this.#rows.size === 0 && nodes.length > 0;
    const seen = new Set<string>();
    const todo: { id: string; keyId: string; nodeId: string; activeSet: boolean; forced: boolean; age: number }[] = [];
    for (const n of nodes) {
      const id = nodeKey(n.keyId, n.nodeId);
      seen.add(id);
      const row = this.#rows.get(id);
      const forced = row === undefined || this.#dirty.has(id) || this.#dirtyKeys.has(n.keyId) || row.activeSet !== (n.activeSet !== undefined);
      const age = row === undefined ? Number.POSITIVE_INFINITY : nowMs - row.at;
      if (forced || this.#allDirty || age > NODE_MAX_AGE_MS) todo.push({ id, keyId: n.keyId, nodeId: n.nodeId, activeSet: n.activeSet !== undefined, forced, age });
    }
    // Nodes named by an entry first, then the oldest rows.
    todo.sort((x, y) => (x.forced === y.forced ? y.age - x.age : x.forced ? -1 : 1));
    const started = performance.now();
    let finished = true;
    for (const t of todo) {
      if (!first && !t.forced && performance.now() - started > NODE_BUDGET_MS) {
        finished = false;
        break;
      }
      const values = t.activeSet ? this.#nodeValues(t.keyId, t.nodeId) : NO_BACKUP;
      const labels = this.#nodeSamples.get(t.id)?.labels ?? `{key_id="${labelValue(t.keyId)}",node_id="${labelValue(t.nodeId)}"}`;
      const lines = values.map((v, i) => (v === undefined ? undefined : `${this.#perNode[i]?.name ?? ''}${labels} ${sampleValue(v)}\n`));
      this.#nodeSamples.set(t.id, { labels, lines });
      this.#rows.set(t.id, { at: nowMs, activeSet: t.activeSet });
    }
    for (const [id] of this.#rows) {
      if (seen.has(id)) continue;
      this.#nodeSamples.delete(id);
      this.#rows.delete(id);
    }
    this.#dirty.clear();
    this.#dirtyKeys.clear();
    if (finished) this.#allDirty = false;

    const custodianInventory = a.inventoryCustodians?.();
    const deletions = a.listDeletions?.();
    const sessions = new Map<string, number>();
    for (const state of ['awaiting-approvals', 'collecting', 'completed', 'failed', 'expired', 'cancelled']) sessions.set(state, 0);
    const counted = a.capabilities?.sessions.countByState();
    if (counted !== undefined) for (const [state, n] of counted) sessions.set(state, n);
    else for (const x of a.listSessions()) sessions.set(x.state, (sessions.get(x.state) ?? 0) + 1);
    const custodians = a.listCustodians();
    const approvers = a.listApprovers();

    this.#nodes.set(nodes.length);
    this.#readKeys(nodes);
    const sets = a.capabilities?.backup?.countByStatus();
    if (sets !== undefined) for (const [state, n] of sets) this.#sets.set({ state }, n);
    for (const [state, count] of sessions) this.#sessions.set({ state }, count);
    this.#custodians.set({ enabled: 'true' }, custodians.filter((c) => c.enabled).length);
    this.#custodians.set({ enabled: 'false' }, custodians.filter((c) => !c.enabled).length);
    this.#approvers.set({ enabled: 'true' }, approvers.filter((c) => c.enabled).length);
    this.#approvers.set({ enabled: 'false' }, approvers.filter((c) => !c.enabled).length);
    if (custodianInventory !== undefined) {
      for (const reason of ['challenge-unanswered', 'attestation-stale']) this.#invCustodiansOverdue.set({ reason }, custodianInventory.filter((c) => c.overdue === reason).length);
      for (const st of ['answered', 'open', 'expired', 'none']) this.#invChallenges.set({ state: st }, custodianInventory.filter((c) => (c.lastChallenge?.state ?? 'none') === st).length);
    }
    if (deletions !== undefined) {
      for (const st of ['awaiting-approvals', 'approved']) this.#deletionsOpen.set({ state: st }, deletions.filter((d) => d.state === st).length);
    }
  }

  /** Per key: t, parties and the group key fingerprint (nodes of one key share them; a mismatch shows as two info series). */
  #readKeys(nodes: readonly NodeRecord[]): void {
    const info = new Map<string, { keyId: string; curve: string; fp: string; count: number }>();
    this.#keyThreshold.reset();
    this.#keyParties.reset();
    for (const n of nodes) {
      if (n.tssThreshold !== undefined) this.#keyThreshold.set({ key_id: n.keyId }, n.tssThreshold);
      this.#keyParties.set({ key_id: n.keyId }, n.parties);
      const fp = n.groupKeyFingerprint ?? 'unknown';
      const id = `${n.keyId}\u0000${n.curve}\u0000${fp}`;
      const row = info.get(id);
      if (row === undefined) info.set(id, { keyId: n.keyId, curve: n.curve, fp, count: 1 });
      else row.count++;
    }
    this.#keyInfo.reset();
    for (const r of info.values()) this.#keyInfo.set({ key_id: r.keyId, curve: r.curve, group_key_fingerprint: r.fp }, r.count);
  }

  /** The per-node values of a node with an active set, in the order of {@link #perNode}. */
  #nodeValues(keyId: string, nodeId: string): (number | undefined)[] {
    const a = this.#agent;
    const s = a.getBackupStatus(keyId, nodeId);
    // One delivery record per external share of the active set; the inventory once per node.
    const inv = a.inventoryStatus?.(keyId, nodeId);
    const shares = inv === undefined ? a.queryShareStatus({ keyId, nodeId }).map((x) => ({ delivery: x.status, lastProvenAt: undefined })) : inv.shares;
    const held = shares.filter((x) => x.delivery === 'delivered' || x.delivery === 'confirmed');
    const external = shares.length;
    const rejected = shares.filter((x) => x.delivery === 'rejected').length;
    const externalOnly = s.externalOnlyRecoverable ?? s.externalConfirmed >= s.threshold;
    return [
      1,
      s.epoch,
      s.threshold,
      s.total,
      s.serverSharesHeld,
      external,
      s.externalDelivered,
      s.externalConfirmed,
      rejected,
      s.recoverable ? 1 : 0,
      externalOnly ? 1 : 0,
      external === 0 ? 1 : s.externalConfirmed / external,
      s.lastDrill?.at ?? 0,
      s.lastDrill?.ok === true ? 1 : 0,
      s.lastDrill === undefined ? undefined : s.lastDrill.durationMs / 1000,
      s.serverSharesSoftDeleted,
      s.zeroRetention === undefined ? undefined : s.zeroRetention ? 1 : 0,
      inv?.externalAttested,
      inv?.externalFailed,
      inv === undefined ? undefined : inv.recoverable ? 1 : 0,
      inv === undefined ? undefined : new Set(inv.overdueCustodians.map((o) => o.custodian)).size,
      inv === undefined || held.length === 0 ? undefined : held.some((x) => x.lastProvenAt === undefined) ? 0 : Math.min(...held.map((x) => x.lastProvenAt ?? 0)),
    ];
  }
}

/** How long one refresh may spend on rows no audit entry named (the first refresh computes all). */
const NODE_BUDGET_MS = 100;
/** A per-node row older than this is recomputed (within the budget) even if nothing named it. */
const NODE_MAX_AGE_MS = 5 * 60_000;
/** A node imported but never backed up. */
const NO_BACKUP: readonly (number | undefined)[] = [0, undefined, undefined, undefined, 0, undefined, 0, 0, 0, 0, 0, undefined, 0, 0, undefined, 0, 0, 0, 0, 0, 0, undefined];
const nodeKey = (keyId: string, nodeId: string): string => `${keyId}\u0000${nodeId}`;
/** A label value escaped as the text format requires (backslash, double quote, line feed). */
const labelValue = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
/** HELP text escapes backslash and line feed. */
const helpText = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
/** A sample value as Prometheus writes it (Go's strconv for floats; NaN and ±Inf by name). */
const sampleValue = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === Number.POSITIVE_INFINITY ? '+Inf' : v === Number.NEGATIVE_INFINITY ? '-Inf' : String(v));

// ───────────────────────────── the HTTP endpoint ─────────────────────────────

export interface MetricsServerOptions {
  /** A loopback address (127.0.0.0/8, ::1 or localhost); default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port, reported in the result. */
  readonly port?: number;
  readonly logger?: Pick<RpcLogger, 'warn'>;
}

export interface RunningMetricsServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * Serves `GET /metrics` (and HEAD) over plain HTTP/1.1 on a loopback address only: key ids are
 * labels, so the endpoint is not for the network. Put an authenticating proxy in front to scrape
 * from elsewhere.
 */
export async function startMetricsServer(metrics: AgentMetrics, options: MetricsServerOptions = {}): Promise<RunningMetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!isLoopback(host)) {
    throw new AgentError('PERMISSION_DENIED', `The metrics endpoint listens on loopback only (127.0.0.1 or ::1), not on ${host}: its labels name the agent's keys. Scrape it through a local proxy.`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AgentError('FAILED_PRECONDITION', `A port is 0 to 65535, not ${String(port)}.`);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found. The metrics are at /metrics.\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Only GET and HEAD.\n');
      return;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        options.logger?.warn('metrics: rendering failed', { error: error instanceof Error ? error.message : String(error) });
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('The metrics could not be rendered; see the agent log.\n');
      },
    );
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e: Error) => options.logger?.warn('metrics: server error', { message: e.message }));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new AgentError('INTERNAL', 'The metrics server has no TCP address.');
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    host,
    port: address.port,
    url: `http://${urlHost}:${String(address.port)}/metrics`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      })),
  };
}
