// Shared helpers for the agent tests: temp data directories, a controllable clock, the tss-lib
// fixtures copied into this repository, and the custodians' and approvers' side of the protocol
// (made with shared/protocol exactly as the desktop app and the approver CLI would).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { Agent } from '../../agent/service';
import { codeOf } from '../../agent/errors';
import type { BackupResult } from '../../agent/api';
import { parseKeydata, writeKeydata } from '../../shared/keydata';
import {
  createApproverIdentity,
  createCustodianIdentity,
  custodianIdentityFingerprint,
  makeApproval,
  makeApproverCard,
  makeCustodianCard,
  makeReceipt,
  makeRecoveryExport,
  openEnvelope,
  openRecoveryRequest,
  type ApproverIdentity,
  type CustodianIdentity,
  type SessionDetails,
} from '../../shared/protocol';
import { toHex } from '../../shared/bytes';
import { rosterApprovals } from '../registry/helpers';

export type Scheme = 'ecdsa' | 'eddsa';

/** 2026-09-21, fixed so tests never depend on the real clock. */
export const T0 = 1_790_000_000_000;

export class Clock {
  t = T0;
  readonly now = (): number => this.t;
  get seconds(): number {
    return Math.floor(this.t / 1000);
  }
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

const dirs: string[] = [];

export function tempDir(prefix = 'custos-agent-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) {
    rmSync(d, { recursive: true, force: true });
    rmSync(`${d}.kek.key`, { force: true }); // a data directory's default KEK file lies beside it
    rmSync(`${d}.kek.key.erase`, { recursive: true, force: true }); // and that file's erase keys
  }
}

export function fixture(scheme: Scheme, party: 0 | 1): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../fixtures/tss-lib/${scheme}/keygen_data_${String(party)}.json`, import.meta.url)));
}

/** tss-lib's own compact form of a fixture (json.Marshal), what a recovery must reproduce. */
export function compactFixture(scheme: Scheme, party: 0 | 1): Uint8Array {
  return writeKeydata(parseKeydata(fixture(scheme, party)));
}

/** Every file under `dir`, relative path → bytes. For "nothing was changed" comparisons. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), toHex(new Uint8Array(readFileSync(p))));
    }
  };
  walk(dir);
  return out;
}

/** Awaits `p` (or runs `fn`) and asserts it throws a coded error with `code`; returns the error. */
export async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<Error & { details?: Record<string, unknown> }> {
  let thrown: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}, nothing was thrown`).toBeDefined();
  expect(codeOf(thrown), String(thrown)).toBe(code);
  return thrown as Error & { details?: Record<string, unknown> };
}

export interface World {
  readonly dir: string;
  readonly out: string;
  readonly clock: Clock;
  readonly agent: Agent;
  readonly custodians: CustodianIdentity[];
  readonly fingerprints: string[];
  readonly approvers: ApproverIdentity[];
}

/** A fresh agent with 3 (or `custodians`) registered custodians and 2 registered approvers. */
export async function makeWorld(options: { custodians?: number; approvers?: number } = {}): Promise<World> {
  const dir = tempDir();
  const out = tempDir('custos-out-');
  const clock = new Clock();
  await Agent.init(dir, { now: clock.now, name: 'agent under test', operator: 'test-init' });
  const agent = await Agent.open(dir, { now: clock.now, operator: 'tester' });
  const roles = ['security-team', 'independent-custodian', 'cold-storage'] as const;
  const custodians: CustodianIdentity[] = [];
  const fingerprints: string[] = [];
  for (let i = 0; i < (options.custodians ?? 3); i++) {
    const c = await createCustodianIdentity(`custodian ${String(i + 1)}`);
    custodians.push(c);
    const rec = await agent.addCustodian(makeCustodianCard(c, clock.seconds), `Custodian ${String(i + 1)}`, roles[i % 3] ?? 'cold-storage');
    fingerprints.push(rec.fingerprint);
  }
  const approvers: ApproverIdentity[] = [];
  for (const name of ['Alice (security)', 'Bob (business owner)', 'Carol (compliance)'].slice(0, options.approvers ?? 2)) {
    const a = createApproverIdentity(name);
    // From the third on, the first two approve the roster change (issue 9 §1b: approver quorum).
    const approvals = approvers.length < 2 ? [] : rosterApprovals(agent, approvers.slice(0, 2), 'add', a, clock.seconds);
    approvers.push(a);
    await agent.addApprover(makeApproverCard(a, clock.seconds), {}, approvals);
  }
  return { dir, out, clock, agent, custodians, fingerprints, approvers };
}

/** Each custodian opens its envelope (every check of the desktop app) and keeps the share. */
export async function openAllEnvelopes(w: World, backup: BackupResult): Promise<Map<number, { custodian: CustodianIdentity; share: Uint8Array; envelope: Uint8Array; hash: Uint8Array; setId: Uint8Array }>> {
  const held = new Map<number, { custodian: CustodianIdentity; share: Uint8Array; envelope: Uint8Array; hash: Uint8Array; setId: Uint8Array }>();
  for (const e of backup.envelopes) {
    const c = w.custodians[w.fingerprints.indexOf(e.custodian)]!;
    const bytes = new Uint8Array(readFileSync(e.file));
    const opened = await openEnvelope(bytes, w.agent.publicKey, { fingerprint: custodianIdentityFingerprint(c), ageIdentity: c.age.identity }, w.clock.seconds);
    expect(opened.envelope.body.share_index).toBe(e.shareIndex);
    held.set(e.shareIndex, { custodian: c, share: opened.share, envelope: bytes, hash: opened.hash, setId: opened.manifest.body.set_id });
  }
  return held;
}

export function receiptFor(w: World, backup: BackupResult, held: { custodian: CustodianIdentity; hash: Uint8Array; setId: Uint8Array }, shareIndex: number, status: 'accepted' | 'rejected' = 'accepted'): Uint8Array {
  return makeReceipt(
    {
      envelope_hash: held.hash,
      key_id: backup.keyId,
      node_id: backup.nodeId,
      set_id: held.setId,
      epoch: backup.epoch,
      share_index: shareIndex,
      status,
      ...(status === 'rejected' ? { reason: 'OTHER' as const, note: 'not for me' } : {}),
      received_at: w.clock.seconds,
    },
    held.custodian.signing,
  );
}

export function approve(w: World, details: SessionDetails, approver: ApproverIdentity, at = w.clock.seconds): Uint8Array {
  return makeApproval({ session: details, approver_name: approver.name, approved_at: at }, approver.signing);
}

/** Opens a session, gets both approvals and the signed request: what ops do before collecting. */
export async function approvedSession(w: World, input: { keyId: string; nodeId: string; mode: 'mixed' | 'external-only'; incidentId?: string; ttlSeconds?: number; setId?: string }): Promise<{ sessionId: string; request: Uint8Array; details: SessionDetails }> {
  const opened = await w.agent.openSession({ incidentId: input.incidentId ?? 'INC-2026-0042', ...input });
  for (const a of w.approvers.slice(0, 2)) await w.agent.addApproval(opened.session.sessionId, approve(w, opened.details, a));
  const request = await w.agent.recoveryRequest(opened.session.sessionId);
  return { sessionId: opened.session.sessionId, request, details: opened.details };
}

/** A custodian's export of its share for a recovery request (after checking the request). */
export async function exportFor(w: World, request: Uint8Array, held: { custodian: CustodianIdentity; share: Uint8Array }, shareIndex: number): Promise<Uint8Array> {
  const req = openRecoveryRequest(request, w.agent.publicKey, w.clock.seconds);
  const c = held.custodian;
  return makeRecoveryExport(req, shareIndex, held.share, { signing: c.signing, fingerprint: custodianIdentityFingerprint(c) }, w.clock.seconds);
}
