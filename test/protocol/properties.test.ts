/**
 * Property tests (fast-check): every message type round-trips (make → open → the same body),
 * canonical CBOR round-trips, age sealing round-trips, and Shamir split/combine round-trips for
 * random secrets, thresholds and subsets.
 */
import { encode, rfc8949EncodeOptions } from 'cborg';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { generateAgeKeyPair, openSealed, sealTo, type AgeKeyPair } from '../../shared/crypto/seal';
import { combineShares, shareCommitment, splitSecret, type CombineExpectation } from '../../shared/crypto/shamir';
import { isCustosError } from '../../shared/errors';
import {
  agentFingerprint,
  approverFingerprint,
  custodianFingerprint,
  decodeCanonical,
  encodeCanonical,
  makeAgentCard,
  makeAgentKeyRotation,
  makeApproval,
  makeDeletionApproval,
  makeApproverCard,
  makeAttestation,
  makeChallenge,
  makeCustodianCard,
  makeEnvelope,
  makeManifest,
  makeReceipt,
  makeRecoveryExport,
  makeRecoveryRequest,
  makeSupersede,
  openAgentCard,
  openAgentKeyRotation,
  openApproval,
  openDeletionApproval,
  openApproverCard,
  openChallenge,
  openCustodianCard,
  openEnvelope,
  openManifest,
  openReceipt,
  openRecoveryExport,
  openRecoveryRequest,
  openSupersede,
  REJECTION_REASONS,
  verifyAttestation,
  type Manifest,
  type Receipt,
} from '../../shared/protocol';
import { ageKeyFrom, bytesOf, deletion, distinctKeys, epoch, identifier, inventoryItem, labelText, manifest, session, signingKey, timestamp } from './arbitraries';

const MAX_TS = 2 ** 40;
const RUNS = 40;
const SLOW_RUNS = 25; // properties that encrypt with age

const agePool: AgeKeyPair[] = [];
for (let i = 0; i < 6; i++) agePool.push(await generateAgeKeyPair());
const ageKey = ageKeyFrom(agePool);

/** The manifest with share `index` assigned to `custodian` and committed to `share`. */
function assign(m: Manifest, index: number, custodian: Uint8Array, share: Uint8Array): Manifest {
  return {
    ...m,
    shares: m.shares.map((s) =>
      s.index === index ? { ...s, custodian, commitment: shareCommitment({ setId: m.set_id, epoch: m.epoch }, index, share) } : s,
    ),
  };
}

/** A manifest, one of its external share indexes, and a share of the right length for it. */
const manifestWithShare = manifest.chain((m) => {
  const external = m.shares.filter((s) => s.custodian !== null).map((s) => s.index);
  return fc.record({
    m: fc.constant({ ...m, secret_length: Math.min(m.secret_length, 512) }),
    index: fc.constantFrom(...external),
    share: fc.uint8Array({ minLength: Math.min(m.secret_length, 512) + 1, maxLength: Math.min(m.secret_length, 512) + 1 }),
  });
});

describe('every message round-trips: make → open → the same body', () => {
  it('agent, custodian and approver cards', async () => {
    await fc.assert(
      fc.asyncProperty(signingKey, labelText, timestamp, ageKey, async (key, name, now, age) => {
        const agent = openAgentCard(makeAgentCard({ name, signing: key }, now));
        expect(agent.body).toEqual({ name, sign_key: key.publicKey, created_at: now });
        expect(agent.fingerprint).toEqual(agentFingerprint(key.publicKey));
        const custodian = openCustodianCard(makeCustodianCard({ name, signing: key, age }, now));
        expect(custodian.body).toEqual({ name, sign_key: key.publicKey, age_recipient: age.recipient, created_at: now });
        expect(custodian.fingerprint).toEqual(custodianFingerprint(key.publicKey, age.recipient));
        const approver = openApproverCard(makeApproverCard({ name, signing: key }, now));
        expect(approver.body).toEqual({ name, sign_key: key.publicKey, created_at: now });
        expect(approver.fingerprint).toEqual(approverFingerprint(key.publicKey));
        expect(approver.code).toMatch(/^\d{4}( \d{4}){5}$/);
        await Promise.resolve();
      }),
      { numRuns: RUNS },
    );
  });

  it('agent key rotation', () => {
    fc.assert(
      fc.property(distinctKeys(2, 2), labelText, timestamp, timestamp, ([oldKey, newKey], name, t1, t2) => {
        if (oldKey === undefined || newKey === undefined) throw new Error('two keys');
        const card = makeAgentCard({ name, signing: newKey }, t1);
        const opened = openAgentKeyRotation(makeAgentKeyRotation(card, oldKey, t2), oldKey.publicKey);
        expect(opened.body).toEqual({ name, sign_key: newKey.publicKey, created_at: t1 });
        expect(toHex(opened.bytes)).toBe(toHex(card));
      }),
      { numRuns: RUNS },
    );
  });

  it('manifest', () => {
    fc.assert(
      fc.property(signingKey, manifest, (key, m) => {
        expect(openManifest(makeManifest(m, key), key.publicKey).body).toEqual(m);
      }),
      { numRuns: RUNS },
    );
  });

  it('envelope, with decryption and the share commitment', async () => {
    await fc.assert(
      fc.asyncProperty(
        signingKey,
        manifestWithShare,
        bytesOf(32),
        ageKey,
        fc.integer({ min: 0, max: 10 ** 6 }),
        fc.option(fc.integer({ min: 0, max: 10 ** 6 }), { nil: undefined }),
        async (agent, { m: base, index, share }, me, age, delay, validFor) => {
          const m = assign(base, index, me, share);
          const manifestBytes = makeManifest(m, agent);
          const createdAt = Math.min(m.created_at + delay, MAX_TS);
          const notAfter = validFor === undefined ? undefined : Math.min(createdAt + validFor, MAX_TS);
          const bytes = await makeEnvelope(
            { manifestBytes, manifest: m, shareIndex: index, share, recipientFingerprint: me, recipientAge: age.recipient, createdAt, ...(notAfter === undefined ? {} : { notAfter }) },
            agent,
          );
          const opened = await openEnvelope(bytes, agent.publicKey, { fingerprint: me, ageIdentity: age.identity }, createdAt);
          expect(opened.share).toEqual(share);
          expect(opened.manifest.body).toEqual(m);
          const { payload: _payload, ...rest } = opened.envelope.body;
          expect(rest).toEqual({ manifest: manifestBytes, share_index: index, recipient: me, created_at: createdAt, ...(notAfter === undefined ? {} : { not_after: notAfter }) });
        },
      ),
      { numRuns: SLOW_RUNS },
    );
  });

  it('receipt', () => {
    const receipt: fc.Arbitrary<Receipt> = fc
      .record({
        envelope_hash: bytesOf(32),
        key_id: identifier,
        node_id: identifier,
        set_id: bytesOf(16),
        epoch,
        share_index: fc.integer({ min: 1, max: 255 }),
        received_at: timestamp,
        rejected: fc.option(fc.constantFrom(...REJECTION_REASONS), { nil: undefined }),
        note: fc.option(fc.string({ maxLength: 500 }), { nil: undefined }),
      })
      .map(({ rejected, note, ...r }) => ({
        ...r,
        ...(rejected === undefined ? { status: 'accepted' as const } : { status: 'rejected' as const, reason: rejected }),
        ...(note === undefined ? {} : { note }),
      }));
    fc.assert(
      fc.property(signingKey, receipt, (key, r) => {
        expect(openReceipt(makeReceipt(r, key), key.publicKey).body).toEqual(r);
      }),
      { numRuns: RUNS },
    );
  });

  it('approval', () => {
    fc.assert(
      fc.property(signingKey, session, labelText, timestamp, (key, s, name, at) => {
        const body = { session: s, approver_name: name, approved_at: at };
        const opened = openApproval(makeApproval(body, key), s, [key.publicKey]);
        expect(opened.body).toEqual(body);
        expect(opened.approverKey).toEqual(key.publicKey);
      }),
      { numRuns: RUNS },
    );
  });

  it('deletion approval', () => {
    fc.assert(
      fc.property(signingKey, deletion, labelText, timestamp, (key, d, name, at) => {
        const body = { deletion: d, approver_name: name, approved_at: at };
        const bytes = makeDeletionApproval(body, key);
        const opened = openDeletionApproval(bytes, d, [key.publicKey]);
        expect(opened.body).toEqual(body);
        expect(opened.approverKey).toEqual(key.publicKey);
        // Bound to its details: another purpose, or one share fewer, is another deletion.
        const other = { ...d, purpose: d.purpose === 'zero-retention' ? ('reduce-retention' as const) : ('zero-retention' as const) };
        expect(() => openDeletionApproval(bytes, other, [key.publicKey])).toThrow(expect.objectContaining({ code: 'SESSION_MISMATCH' }) as Error);
        if (d.share_indexes.length > 1) {
          expect(() => openDeletionApproval(bytes, { ...d, share_indexes: d.share_indexes.slice(1) }, [key.publicKey])).toThrow(expect.objectContaining({ code: 'SESSION_MISMATCH' }) as Error);
        }
        // Never accepted as a recovery approval.
        expect(() => openApproval(bytes, { session_id: d.deletion_id, incident_id: 'x', key_id: d.key_id, node_id: d.node_id, set_id: d.set_id, epoch: d.epoch, mode: 'mixed', not_after: d.not_after })).toThrow(
          expect.objectContaining({ code: 'WRONG_TYPE' }) as Error,
        );
      }),
      { numRuns: RUNS },
    );
  });

  /** A manifest signed by `agent`, a session for it, and approvals from 2–4 distinct approvers. */
  const requestParts = fc.record({
    agent: signingKey,
    approvers: distinctKeys(2, 4),
    names: fc.array(labelText, { minLength: 4, maxLength: 4 }),
    session,
    recipient: ageKey,
    createdAt: timestamp,
    early: fc.integer({ min: 0, max: 10 ** 6 }),
  });

  type RequestParts = typeof requestParts extends fc.Arbitrary<infer T> ? T : never;

  function makeRequest(p: RequestParts, m: Manifest) {
    const s = { ...p.session, key_id: m.key_id, node_id: m.node_id, set_id: m.set_id, epoch: m.epoch };
    const approvals = p.approvers.map((a, i) => makeApproval({ session: s, approver_name: p.names[i] ?? 'x', approved_at: p.createdAt }, a));
    const body = { session: s, approvals, recipient: p.recipient.recipient, manifest: makeManifest(m, p.agent), created_at: p.createdAt };
    return { body, bytes: makeRecoveryRequest(body, p.agent), now: Math.max(0, s.not_after - p.early) };
  }

  it('recovery request', () => {
    fc.assert(
      fc.property(requestParts, manifest, (p, m) => {
        const { body, bytes, now } = makeRequest(p, m);
        const opened = openRecoveryRequest(bytes, p.agent.publicKey, now, p.approvers.map((a) => a.publicKey));
        expect(opened.request.body).toEqual(body);
        expect(opened.manifest.body).toEqual(m);
        expect(opened.approvals.map((a) => a.approverKey)).toEqual(p.approvers.map((a) => a.publicKey));
      }),
      { numRuns: RUNS },
    );
  });

  it('recovery export, with decryption and the share commitment', async () => {
    await fc.assert(
      fc.asyncProperty(requestParts, manifestWithShare, signingKey, ageKey, timestamp, async (p, { m: base, index, share }, custodianKey, custodianAge, at) => {
        const fp = custodianFingerprint(custodianKey.publicKey, custodianAge.recipient);
        const m = assign(base, index, fp, share);
        const { bytes, now } = makeRequest(p, m);
        const req = openRecoveryRequest(bytes, p.agent.publicKey, now);
        const exp = await makeRecoveryExport(req, index, share, { signing: custodianKey, fingerprint: fp }, at);
        const opened = await openRecoveryExport(exp, req, [{ signKey: custodianKey.publicKey, ageRecipient: custodianAge.recipient }], p.recipient.identity);
        expect(opened.share).toEqual(share);
        expect(opened.shareIndex).toBe(index);
        const { payload: _payload, ...rest } = opened.export.body;
        expect(rest).toEqual({
          session_id: req.session.session_id,
          request_hash: req.hash,
          key_id: m.key_id,
          node_id: m.node_id,
          set_id: m.set_id,
          epoch: m.epoch,
          share_index: index,
          created_at: at,
        });
      }),
      { numRuns: SLOW_RUNS },
    );
  });

  it('supersede', () => {
    const notice = fc
      .record({
        key_id: identifier,
        node_id: identifier,
        old_set_id: bytesOf(16),
        new_set_id: bytesOf(16),
        old_epoch: fc.integer({ min: 1, max: 2 ** 32 - 2 }),
        step: fc.integer({ min: 1, max: 1000 }),
        new_manifest_hash: bytesOf(32),
        recipient: bytesOf(32),
        created_at: timestamp,
        wait: fc.integer({ min: 0, max: 10 ** 8 }),
      })
      .filter((n) => n.old_set_id.some((b, i) => b !== n.new_set_id[i]))
      .map(({ step, wait, ...n }) => ({ ...n, new_epoch: Math.min(n.old_epoch + step, 2 ** 32 - 1), destroy_after: Math.min(n.created_at + wait, MAX_TS) }));
    fc.assert(
      fc.property(signingKey, notice, (key, n) => {
        expect(openSupersede(makeSupersede(n, key), key.publicKey, n.recipient).body).toEqual(n);
      }),
      { numRuns: RUNS },
    );
  });

  const itemKey = (i: { key_id: string; node_id: string; set_id: Uint8Array; epoch: number; share_index: number }): string =>
    `${i.key_id}|${i.node_id}|${Array.from(i.set_id).join(',')}|${String(i.epoch)}|${String(i.share_index)}`;

  const challengeBody = fc.record({
    challenge_id: bytesOf(16),
    nonce: bytesOf(32),
    custodian: bytesOf(32),
    items: fc.uniqueArray(inventoryItem, { minLength: 1, maxLength: 6, selector: itemKey }),
    created_at: timestamp,
    not_after: timestamp,
  });

  it('inventory challenge', () => {
    fc.assert(
      fc.property(signingKey, challengeBody, (key, c) => {
        const opened = openChallenge(makeChallenge(c, key), key.publicKey, c.custodian, Math.min(c.created_at, c.not_after));
        expect(opened.body).toEqual(c);
      }),
      { numRuns: RUNS },
    );
  });

  it('inventory attestation', () => {
    fc.assert(
      fc.property(
        signingKey,
        signingKey,
        challengeBody,
        fc.array(fc.option(bytesOf(64), { nil: undefined }), { minLength: 6, maxLength: 6 }),
        timestamp,
        (agent, custodian, c, proofs, at) => {
          const bytes = makeChallenge(c, agent);
          const ch = openChallenge(bytes, agent.publicKey, c.custodian, Math.min(c.created_at, c.not_after));
          const answered = c.items.slice(0, Math.max(1, c.items.length - 1));
          const body = {
            challenge_id: c.challenge_id,
            challenge_hash: ch.hash,
            items: answered.map((item, i) => {
              const proof = proofs[i];
              return proof === undefined ? { ...item, status: 'missing' as const } : { ...item, status: 'held' as const, proof };
            }),
            answered_at: at,
          };
          const { attestation, verdicts } = verifyAttestation(makeAttestation(body, custodian), ch, custodian.publicKey, () => undefined);
          expect(attestation.body).toEqual(body);
          expect(verdicts.map((v) => v.result)).toEqual(
            c.items.map((_, i) => (i >= answered.length ? 'not-answered' : proofs[i] === undefined ? 'missing' : 'bad-proof')),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('canonical CBOR', () => {
  /** Strings over all UTF-16 code units, lone surrogates included. */
  const anyText = fc.string({ unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c))), maxLength: 12 });
  const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', maxDepth: 5 },
      fc.constant(null),
      fc.boolean(),
      fc.maxSafeInteger(),
      fc.oneof(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 64n), max: -(2n ** 53n) })),
      anyText,
      fc.uint8Array({ maxLength: 40 }),
      fc.array(tie('v'), { maxLength: 5 }),
      fc.dictionary(anyText, tie('v'), { maxKeys: 5, noNullPrototype: true }),
    ),
  })).v;

  it('whatever encodeCanonical accepts, decodeCanonical gives back exactly', () => {
    fc.assert(
      fc.property(value, (v) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeCanonical(v);
        } catch (error) {
          // Refusing is allowed (text that is not valid Unicode); throwing anything else is not.
          expect(isCustosError(error)).toBe(true);
          return;
        }
        expect(decodeCanonical(bytes)).toEqual(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes exactly as cborg with RFC 8949 options (bytewise key order), keys of every length class and script', () => {
    const key = fc.oneof(
      anyText,
      fc.constantFrom(23, 24, 25, 255, 256, 257).chain((n) => fc.constantFrom('a', 'é', '中', '😀').map((c) => c.repeat(n))),
      fc.string({ minLength: 20, maxLength: 300 }),
    );
    const withKeys: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof({ depthSize: 'small', maxDepth: 3 }, fc.maxSafeInteger(), anyText, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 8, noNullPrototype: true })),
    })).v;
    fc.assert(
      fc.property(withKeys, (v) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeCanonical(v);
        } catch (error) {
          expect(isCustosError(error)).toBe(true);
          return;
        }
        expect(toHex(bytes)).toBe(toHex(encode(v, rfc8949EncodeOptions)));
      }),
      { numRuns: 2000 },
    );
  });

  it('a "__proto__" key stays an own data key and never becomes a prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": 1}, "b": 2}') as Record<string, unknown>;
    const decoded = decodeCanonical(encodeCanonical(value)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded).sort()).toEqual(['__proto__', 'b']);
    expect('polluted' in decoded).toBe(false);
  });

  it('a name that is not valid Unicode is refused, never silently replaced before signing', () => {
    const key = fc.sample(signingKey, 1)[0];
    if (key === undefined) throw new Error('no key');
    for (const name of ['Alice \uD800', '\uDC00', 'a\uDBFFb']) {
      let opened: string | undefined;
      try {
        opened = openApproverCard(makeApproverCard({ name, signing: key }, 0)).body.name;
      } catch (error) {
        expect(isCustosError(error)).toBe(true);
        continue;
      }
      expect(opened).toBe(name);
    }
  });

  it('text starting with a byte order mark is refused at encoding (no reader accepts it: a decoder drops the mark), anywhere else it round-trips', () => {
    for (const bad of ['\ufeff', '\ufeffAlice', '\ufeff' + 'y'.repeat(300)]) {
      for (const v of [bad, { name: bad }, { [bad]: 1 }, [1, bad]]) {
        let error: unknown;
        try {
          encodeCanonical(v);
        } catch (e) {
          error = e;
        }
        expect(isCustosError(error) && error.code === 'MALFORMED' && /byte order mark/.test(error.message)).toBe(true);
      }
    }
    for (const ok of ['Alice\ufeff', 'A\ufeffB', '']) expect(decodeCanonical(encodeCanonical({ name: ok }))).toEqual({ name: ok });
  });
});

describe('age sealing', () => {
  it('sealTo → openSealed gives the plaintext back', async () => {
    await fc.assert(
      fc.asyncProperty(ageKey, fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 4096 })), async (age, plaintext) => {
        expect(await openSealed(age.identity, await sealTo(age.recipient, plaintext))).toEqual(plaintext);
      }),
      { numRuns: 50 },
    );
  });

  it.each([0, 1, 65535, 65536, 65537, 3 * 65536 + 7])('across age chunk boundaries: %i bytes', async (length) => {
    const age = agePool[0];
    if (age === undefined) throw new Error('no key');
    const plaintext = new Uint8Array(length).map((_, i) => (i * 31 + 7) & 0xff);
    expect(await openSealed(age.identity, await sealTo(age.recipient, plaintext))).toEqual(plaintext);
  });

  it('another identity cannot open it (DECRYPT_FAILED)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (plaintext) => {
        const [a, b] = agePool;
        if (a === undefined || b === undefined) throw new Error('no keys');
        await expect(openSealed(b.identity, await sealTo(a.recipient, plaintext))).rejects.toSatisfy((e) => isCustosError(e, 'DECRYPT_FAILED'));
      }),
      { numRuns: 10 },
    );
  });
});

describe('Shamir split and combine', () => {
  /** Split cost grows with length × total × threshold: keep each case well under 100 ms. */
  const BUDGET = 3_000_000;

  const params = fc
    .record({
      total: fc.oneof({ arbitrary: fc.integer({ min: 2, max: 10 }), weight: 6 }, { arbitrary: fc.integer({ min: 11, max: 60 }), weight: 2 }, fc.integer({ min: 61, max: 255 })),
      thresholdPick: fc.nat(),
      lengthPick: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 64 }), weight: 6 }, { arbitrary: fc.integer({ min: 65, max: 1024 }), weight: 2 }, fc.integer({ min: 1025, max: 4096 })),
    })
    .chain(({ total, thresholdPick, lengthPick }) => {
      const threshold = 2 + (thresholdPick % (total - 1));
      const length = Math.max(1, Math.min(lengthPick, Math.floor(BUDGET / (total * threshold))));
      const indexes = Array.from({ length: total }, (_, i) => i + 1);
      return fc.record({
        threshold: fc.constant(threshold),
        total: fc.constant(total),
        secret: fc.uint8Array({ minLength: length, maxLength: length }),
        subset: fc.shuffledSubarray(indexes, { minLength: threshold }),
        setId: bytesOf(16),
        epoch,
      });
    });

  async function roundTrip(p: { threshold: number; total: number; secret: Uint8Array; subset: number[]; setId: Uint8Array; epoch: number }): Promise<void> {
    const binding = { setId: p.setId, epoch: p.epoch };
    const split = await splitSecret(p.secret, p, binding);
    expect(split.shares.map((s) => s.index)).toEqual(Array.from({ length: p.total }, (_, i) => i + 1));
    const expectation: CombineExpectation = {
      ...binding,
      threshold: p.threshold,
      total: p.total,
      secretLength: p.secret.length,
      secretCommitment: split.secretCommitment,
      shareCommitments: new Map(split.shares.map((s, i) => [s.index, split.shareCommitments[i] ?? new Uint8Array()])),
    };
    const provided = p.subset.map((index) => {
      const s = split.shares[index - 1];
      if (s === undefined) throw new Error('missing share');
      return { ...s, ...binding };
    });
    expect(await combineShares(expectation, provided)).toEqual(p.secret);
    await expect(combineShares(expectation, provided.slice(0, p.threshold - 1))).rejects.toSatisfy((e) => isCustosError(e, 'BELOW_THRESHOLD'));
  }

  it('random secrets (1 B to 4 KB), thresholds, totals (≤ 255) and subsets', async () => {
    await fc.assert(fc.asyncProperty(params, roundTrip), { numRuns: 30 });
  });

  const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
  const fixedSecret = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 131 + 17) & 0xff);
  it.each([
    { name: '2-of-2', threshold: 2, total: 2, length: 32, subset: [2, 1] },
    { name: '2-of-2, 4096-byte secret', threshold: 2, total: 2, length: 4096, subset: [1, 2] },
    { name: '255-of-255, short secret', threshold: 255, total: 255, length: 16, subset: all(255) },
    { name: '2-of-255, 4096-byte secret, the last two shares', threshold: 2, total: 255, length: 4096, subset: [254, 255] },
    { name: '3-of-5, 4096-byte secret', threshold: 3, total: 5, length: 4096, subset: [5, 1, 3] },
    { name: '1-byte secret, 2-of-3', threshold: 2, total: 3, length: 1, subset: [3, 1] },
  ])('$name', async ({ threshold, total, length, subset }) => {
    await roundTrip({ threshold, total, secret: fixedSecret(length), subset, setId: new Uint8Array(16).fill(9), epoch: 1 });
  });
});
