// The IPC contract itself: every channel has a handler, a preload function and a request schema
// that refuses bad payloads with a coded error BEFORE anything runs (no file, no state, no event,
// no dialog changes); the contract's lists agree with the services'; the wire format round-trips.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNEL_NAMES, CHANNELS, EVENT_NAMES, IPC_ERROR_CODES, LANGUAGES, MAX_FILE_BYTES, SHARE_STATUSES, type Channel, type RequestOf } from '../../shared/ipc/contract';
import { base64Decode, base64Encode, fromWire, toWire } from '../../shared/ipc/wire';
import { buildApi } from '../../preload/api';
import { HANDLERS } from '../../main/handlers';
import { MESSAGES, LANGUAGES as SERVICE_LANGUAGES } from '../../main/services/messages';
import { SHARE_STATUSES as STATE_STATUSES } from '../../main/services/state';
import { makeAgent, makeSet, PASSPHRASE } from '../custodian/helpers';
import { call, file, harness, refused, withVault } from './helpers';

const hex = (n: number): string => 'ab'.repeat(n);
const f = file('x.custos', new Uint8Array([1, 2, 3]));

/** One VALID request per channel (typed: a channel missing here does not compile). */
const EXAMPLES: { [C in Channel]: RequestOf<C> } = {
  'app:info': {},
  'app:activity': {},
  'vault:status': {},
  'vault:create': { name: 'Carol', passphrase: PASSPHRASE, opId: 'op-1' },
  'vault:unlock': { passphrase: PASSPHRASE, opId: 'op-1' },
  'vault:lock': {},
  'vault:changePassphrase': { current: PASSPHRASE, next: `${PASSPHRASE}!` },
  'vault:generatePassphrase': { words: 6 },
  'vault:checkPassphrase': { passphrase: 'password', name: 'Carol' },
  'vault:card': {},
  'backup:status': {},
  'backup:toFolder': { passphrase: PASSPHRASE },
  'backup:restore': { passphrase: PASSPHRASE },
  'trust:previewAgent': { card: f },
  'trust:pin': { card: f, confirmCode: '1234 5678 1234 5678 1234 5678' },
  'trust:rotate': { notice: f },
  'trust:status': {},
  'approvers:preview': { card: f },
  'approvers:pin': { card: f, confirmCode: '1234 5678 1234 5678 1234 5678', contact: { name: 'Li Wei (ops)', reach: '+86 21 5555 0100' } },
  'approvers:remove': { fingerprint: hex(32) },
  'approvers:list': {},
  'approvers:setAgentContact': { contact: { name: 'Li Wei (ops)', reach: '+86 21 5555 0100' } },
  'approvers:setContact': { fingerprint: hex(32), contact: { name: 'Alice Zhang', reach: '+86 10 5555 0199' } },
  'approvers:previewRoster': { roster: f },
  'approvers:pinRoster': { roster: f, confirmCode: '1234 5678 1234 5678 1234 5678' },
  'inbox:import': { opId: 'op-1', files: [f], frames: [{ name: 'cam', frame: 'ur:custos-envelope/aeadaolazmjendeoti' }] },
  'inbox:cancel': { opId: 'op-1' },
  'inbox:refusals': {},
  'shares:list': { filter: { keyId: 'key-1', nodeId: 'node-1', setId: 'ab', shareIndex: 3, status: ['received'] } },
  'shares:page': { offset: 100, limit: 50, query: 'key-1 node', keyId: 'key-1', status: ['received', 'confirmed'], event: 'exported', sort: { by: 'key', dir: 'desc' } },
  'shares:details': { id: hex(32) },
  'shares:verifyAll': { opId: 'op-1' },
  'receipts:sign': { ids: [hex(32)], status: 'rejected', reason: 'OTHER', note: 'n' },
  'receipts:export': { receipts: [f] },
  'receipts:sequence': { receipts: [f], opId: 'op-1' },
  'receipts:send': { receipts: [f] },
  'recovery:show': { request: f },
  'recovery:export': { request: f, confirmation: hex(32), extraFrames: 2, sheet: true, opId: 'op-1' },
  'station:add': { files: [f], frames: [] },
  'station:list': {},
  'station:remove': { sessionId: hex(16), hash: hex(32) },
  'station:refresh': { sessionId: hex(16) },
  'station:submit': { sessionId: hex(16), complete: true, drill: true, opId: 'op-1' },
  'agent:status': {},
  'agent:setToken': { token: 't'.repeat(32) },
  'agent:check': {},
  'inventory:review': { challenge: f },
  'inventory:answer': { challenge: f },
  'supersede:apply': { notices: [f] },
  'deletion:soft': { id: hex(32), reason: 'r' },
  'deletion:rollback': { id: hex(32) },
  'deletion:purge': {},
  'audit:list': { offset: 0, limit: 10, newestFirst: true },
  'audit:verify': {},
  'audit:export': {},
  'settings:get': {},
  'settings:set': { change: { language: 'zh-CN', autoLockMinutes: 5, agentUrl: null, deletionCoolingDays: 3 } },
  'qr:decodeImage': { image: f },
  'qr:assemble': { frames: [{ name: 'cam', frame: 'ur:custos-envelope/aeadaolazmjendeoti' }] },
  'qr:encode': { type: 'receipt', bytes: new Uint8Array([1]) },
  'files:save': { file: { name: 'a.custos', bytes: new Uint8Array([1]) } },
  'files:saveAll': { files: [{ name: 'a.custos', bytes: new Uint8Array([1]) }] },
  'files:open': { purpose: 'envelopes', multiple: true },
};

/** Every file under `dir` with its content hash (what "no state change" means on disk). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('the IPC contract', () => {
  it('names every channel feature:verb, with a handler, a preload function and a valid example', async () => {
    expect(CHANNEL_NAMES.length).toBeGreaterThanOrEqual(45);
    for (const c of CHANNEL_NAMES) {
      expect(c).toMatch(/^[a-z]+:[a-z][A-Za-z]*$/);
      expect(typeof HANDLERS[c]).toBe('function');
      const parsed = CHANNELS[c].request.safeParse(EXAMPLES[c]);
      expect(parsed.success, `${c}: ${JSON.stringify(parsed.error?.issues[0])}`).toBe(true);
    }
    expect(Object.keys(HANDLERS).sort()).toEqual([...CHANNEL_NAMES].sort());
    // The preload, built from its per-feature modules, reaches every channel and every event.
    const invoked: string[] = [];
    const subscribed: string[] = [];
    const api = buildApi(
      (channel) => {
        invoked.push(channel);
        return Promise.resolve({ ok: true, value: undefined as never });
      },
      (event) => {
        subscribed.push(event);
        return () => undefined;
      },
    );
    for (const [feature, fns] of Object.entries(api)) {
      for (const [name, fn] of Object.entries(fns as Record<string, (arg: unknown) => unknown>)) {
        if (feature === 'events') fn(() => undefined);
        else {
          const channel = `${feature}:${name}` as Channel;
          await fn(EXAMPLES[channel]);
          expect(invoked.at(-1), `${feature}.${name}`).toBe(channel);
        }
      }
    }
    expect([...invoked].sort()).toEqual([...CHANNEL_NAMES].sort());
    expect([...subscribed].sort()).toEqual([...EVENT_NAMES].sort());
  });

  it('agrees with the services: statuses, languages, and a sentence in both languages for every code', () => {
    expect([...SHARE_STATUSES]).toEqual([...STATE_STATUSES]);
    expect([...LANGUAGES]).toEqual([...SERVICE_LANGUAGES]);
    expect([...IPC_ERROR_CODES].sort()).toEqual(Object.keys(MESSAGES).sort());
    for (const code of IPC_ERROR_CODES) {
      expect(MESSAGES[code].en.length).toBeGreaterThan(10);
      expect(MESSAGES[code]['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
    }
  });

  it('refuses every bad payload on every channel with INVALID_PARAMETERS, and changes nothing', async () => {
    const h = harness();
    await withVault(h);
    const v = await h.ctx.vault();
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    const set = await makeSet(agent.id, { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient });
    await call(h, 'inbox:import', { opId: 'i', files: [file('e.custos', set.envelope)] });
    h.dialogs.openQueue.push([f]);

    const before = snapshot(h.dir);
    const generation = v.state.generation;
    const events = h.events.length;
    const calls = h.dialogs.calls.length;

    let refusals = 0;
    for (const c of CHANNEL_NAMES) {
      const example = EXAMPLES[c] as Record<string, unknown>;
      const bad: unknown[] = [undefined, null, 42, 'text', [], [example], { ...example, unexpected: 1 }];
      // Each field in turn replaced by something no schema accepts.
      for (const key of Object.keys(example)) bad.push({ ...example, [key]: { wrong: true } });
      for (const payload of bad) {
        const r = await refused(h, c, payload, 'INVALID_PARAMETERS');
        refusals++;
        expect(r.details['channel']).toBe(c);
        expect(r.message['zh-CN']).toContain('无效');
        expect(r.detail).toMatch(new RegExp(`^${c}: `));
      }
      // A field named in the detail, never its value.
      if (Object.keys(example).length > 0) {
        const key = Object.keys(example)[0]!;
        const r = await refused(h, c, { ...example, [key]: { wrong: 'SECRET-VALUE' } }, 'INVALID_PARAMETERS');
        expect(r.details['field']).toMatch(new RegExp(`^${key}`));
        expect(JSON.stringify(r)).not.toContain('SECRET-VALUE');
      }
    }
    expect(refusals).toBeGreaterThan(CHANNEL_NAMES.length * 8);
    // Too large, too many, and an unknown channel.
    await refused(h, 'inbox:import', { opId: 'big', files: [file('huge', new Uint8Array(MAX_FILE_BYTES + 1))] }, 'INVALID_PARAMETERS');
    await refused(h, 'qr:assemble', { frames: [{ name: 'x', frame: 'u'.repeat(5000) }] }, 'INVALID_PARAMETERS');
    await refused(h, 'vault:destroy', {}, 'INVALID_PARAMETERS');
    await refused(h, '__proto__', {}, 'INVALID_PARAMETERS');
    await refused(h, 42, {}, 'INVALID_PARAMETERS');

    // Nothing changed: not a byte on disk, not the vault state, no event, no dialog shown.
    expect(snapshot(h.dir)).toEqual(before);
    expect(v.state.generation).toBe(generation);
    expect(v.unlocked).toBe(true);
    expect(h.events.length).toBe(events);
    expect(h.dialogs.calls.length).toBe(calls);
    expect(h.logs.filter((l) => l.event === 'ipc-bad-request').length).toBeGreaterThan(CHANNEL_NAMES.length);
  });

  it('moves bytes through the wire format exactly (the test host transport)', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 1000, 65_537]) {
      const b = new Uint8Array(n).map((_x, i) => (i * 31 + n) % 256);
      expect(base64Decode(base64Encode(b))).toEqual(b);
      expect(base64Encode(b)).toBe(Buffer.from(b).toString('base64'));
    }
    const value = { a: new Uint8Array([1, 2]), nested: [{ b: Buffer.from([3]) }], s: 'x', n: null };
    expect(fromWire(toWire(value))).toEqual({ a: new Uint8Array([1, 2]), nested: [{ b: new Uint8Array([3]) }], s: 'x', n: null });
    expect(() => fromWire('{"$bytes":"!!!!"}')).toThrow();
  });
});
