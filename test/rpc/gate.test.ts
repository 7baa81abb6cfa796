/**
 * The gate before the body (issue 9 §1b): over a real socket with the independent grpc-js client,
 * an unauthenticated caller's large bodies are refused from the headers without being read (the
 * server's bytes read stay near one HTTP/2 window per stream, not the megabytes sent), each method
 * has its own size limit, and a malformed protobuf gets MALFORMED, not INTERNAL "parse binary".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import { createWorld, type World } from './world';
import { RecordingLogger } from './helpers';

const MiB = 1024 * 1024;

/** One unary call with raw request bytes (no codegen: the bytes are exactly what is sent). */
function rawCall(client: grpc.Client, path: string, body: Buffer, token: string | null): Promise<Buffer> {
  const md = new grpc.Metadata();
  if (token !== null) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      md,
      { deadline: Date.now() + 60_000 },
      (err, res) => {
        if (err) reject(err);
        else resolve(res!);
      },
    );
  });
}

async function refused(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as grpc.ServiceError;
  }
  throw new Error('the call succeeded');
}

/** A protobuf field 1 (string) of `n` bytes: a syntactically valid, oversized key_id. */
function stringField(n: number): Buffer {
  const len: number[] = [];
  let v = n;
  while (v >= 0x80) {
    len.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  len.push(v);
  return Buffer.concat([Buffer.from([0x0a, ...len]), Buffer.alloc(n, 0x61)]);
}

describe('the RPC gate', () => {
  let w: World;
  let server: RunningServer;
  let client: grpc.Client;
  const logger = new RecordingLogger();

  beforeAll(async () => {
    w = await createWorld();
    server = await serveAgent(w.agent, { logger });
    client = new grpc.Client(`127.0.0.1:${String(server.port)}`, grpc.credentials.createInsecure(), {
      'grpc.max_send_message_length': 8 * MiB,
    });
  });
  afterAll(async () => {
    client.close();
    await server.close();
    w.close();
  });

  it('refuses 64 concurrent 3.9 MiB calls without a token from their headers, without reading their bodies', async () => {
    const body = Buffer.alloc(3.9 * MiB, 0x41);
    const before = server.bytesRead();
    const errors = await Promise.all(
      Array.from({ length: 64 }, () => refused(rawCall(client, '/infra.v1.BackupService/RecoverMPCShare', body, null))),
    );
    for (const e of errors) {
      expect(grpc.status[e.code], e.details).toBe('UNAUTHENTICATED');
      expect(e.metadata.get('custos-error-code')).toEqual(['UNAUTHENTICATED']);
    }
    const read = server.bytesRead() - before;
    // 64 × 3.9 MiB = 250 MiB were offered; an unread body costs at most one 64 KiB window.
    expect(read).toBeLessThan(64 * 128 * 1024);
    expect(read).toBeGreaterThan(0);
  }, 120_000);

  it('a wrong token is refused the same way, its body unread', async () => {
    const before = server.bytesRead();
    const e = await refused(rawCall(client, '/infra.v1.BackupService/RecoverMPCShare', Buffer.alloc(3 * MiB), 'x'.repeat(64)));
    expect(grpc.status[e.code]).toBe('UNAUTHENTICATED');
    expect(server.bytesRead() - before).toBeLessThan(256 * 1024);
  });

  it('each method has its own size limit: a status query over 16 KiB is TOO_LARGE, read no further', async () => {
    const before = server.bytesRead();
    const e = await refused(rawCall(client, '/infra.v1.BackupService/GetBackupStatus', stringField(2 * MiB), w.token));
    expect(grpc.status[e.code], e.details).toBe('INVALID_ARGUMENT');
    expect(e.metadata.get('custos-error-code')).toEqual(['TOO_LARGE']);
    expect(e.details).toMatch(/larger than this method accepts/);
    expect(server.bytesRead() - before).toBeLessThan(512 * 1024);
    // the same body is within RecoverMPCShare's limit: it gets past the gate to validation
    const ok = await refused(rawCall(client, '/infra.v1.BackupService/RecoverMPCShare', stringField(2 * MiB), w.token));
    expect(ok.metadata.get('custos-error-code')).not.toEqual(['TOO_LARGE']);
  });

  it('a malformed protobuf gets MALFORMED with a sentence, not INTERNAL "parse binary"', async () => {
    // field 1, length-delimited, claims 100 bytes and carries 3
    const e = await refused(rawCall(client, '/infra.v1.BackupService/GetBackupStatus', Buffer.from([0x0a, 100, 1, 2, 3]), w.token));
    expect(grpc.status[e.code], e.details).toBe('INVALID_ARGUMENT');
    expect(e.metadata.get('custos-error-code')).toEqual(['MALFORMED']);
    expect(e.details).not.toMatch(/parse binary/);
    expect(e.details).toMatch(/not a valid protobuf message/);
  });

  it('a well-formed authenticated call still passes the gate', async () => {
    const res = await rawCall(client, '/infra.v1.BackupService/GetBackupStatus', Buffer.concat([Buffer.from([0x0a, 5]), Buffer.from('key-1'), Buffer.from([0x12, 6]), Buffer.from('node-1')]), w.token);
    expect(res.length).toBeGreaterThan(0);
  });

  it('a Connect JSON caller without a token gets 401 with the Custos code, its body unread', async () => {
    const r = await fetch(`${server.url}/infra.v1.BackupService/GetBackupStatus`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keyId: 'key-1', nodeId: 'node-1' }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get('custos-error-code')).toBe('UNAUTHENTICATED');
    const j = (await r.json()) as { code: string };
    expect(j.code).toBe('unauthenticated');
  });
});
