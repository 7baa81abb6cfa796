/**
 * TLS for the RPC (issue 9 §3), with certificates made here by the `openssl` CLI: grpc-js calls the
 * agent over TLS; under mutual TLS a client without a certificate (or with one from another CA) is
 * refused at the handshake and one with a certificate from the client CA is served; listening
 * beyond loopback without TLS is refused with a sentence saying how to fix it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { readTlsFiles, serveAgent, startServer, type RunningServer } from '../../agent/rpc/server';
import { agentOps } from '../../agent/rpc/agent-ops';
import { silentLogger } from '../../agent/rpc/log';
import { createWorld, type World } from './world';

const dir = mkdtempSync(join(tmpdir(), 'custos-tls-'));
const f = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA and a leaf it signs (server: SAN localhost/127.0.0.1; client: clientAuth). */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`));
}
function makeLeaf(name: string, ca: string, ext: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
  execFileSync('sh', ['-c', `printf '%s\\n' '${ext}' > ${name}.ext`], { cwd: dir });
  openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`));
}

function getStatus(address: string, creds: grpc.ChannelCredentials, token: string): Promise<{ code: string; details: string }> {
  const client = new grpc.Client(address, creds);
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  // GetBackupStatus { key_id: "key-1", node_id: "node-1" }
  const body = Buffer.concat([Buffer.from([0x0a, 5]), Buffer.from('key-1'), Buffer.from([0x12, 6]), Buffer.from('node-1')]);
  return new Promise((resolve) => {
    client.makeUnaryRequest('/infra.v1.BackupService/GetBackupStatus', (b: Buffer) => b, (b: Buffer) => b, body, md, { deadline: Date.now() + 10_000 }, (err) => {
      client.close();
      resolve(err ? { code: grpc.status[err.code], details: err.details } : { code: 'OK', details: '' });
    });
  });
}

describe('the RPC over TLS', () => {
  let w: World;
  let tlsServer: RunningServer;
  let mtlsServer: RunningServer;

  beforeAll(async () => {
    makeCa('ca');
    makeCa('client-ca');
    makeCa('other-ca');
    makeLeaf('server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
    makeLeaf('client', 'client-ca', 'extendedKeyUsage=clientAuth');
    makeLeaf('stranger', 'other-ca', 'extendedKeyUsage=clientAuth');
    w = await createWorld();
    tlsServer = await serveAgent(w.agent, { logger: silentLogger, tls: readTlsFiles(f('server.pem'), f('server.key')) });
    mtlsServer = await serveAgent(w.agent, { logger: silentLogger, tls: readTlsFiles(f('server.pem'), f('server.key'), f('client-ca.pem')) });
  }, 60_000);
  afterAll(async () => {
    await tlsServer.close();
    await mtlsServer.close();
    w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ca = () => readFileSync(f('ca.pem'));

  it('serves grpc-js over TLS, and refuses a client that does not trust the certificate', async () => {
    expect(tlsServer.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const address = `127.0.0.1:${String(tlsServer.port)}`;
    expect(await getStatus(address, grpc.credentials.createSsl(ca()), w.token)).toEqual({ code: 'OK', details: '' });
    expect((await getStatus(address, grpc.credentials.createSsl(readFileSync(f('other-ca.pem'))), w.token)).code).toBe('UNAVAILABLE');
    expect((await getStatus(address, grpc.credentials.createInsecure(), w.token)).code).not.toBe('OK');
  });

  it('under mutual TLS refuses a client without a certificate or with another CA, and serves one from the client CA', async () => {
    const address = `127.0.0.1:${String(mtlsServer.port)}`;
    expect((await getStatus(address, grpc.credentials.createSsl(ca()), w.token)).code).toBe('UNAVAILABLE');
    const stranger = grpc.credentials.createSsl(ca(), readFileSync(f('stranger.key')), readFileSync(f('stranger.pem')));
    expect((await getStatus(address, stranger, w.token)).code).toBe('UNAVAILABLE');
    const client = grpc.credentials.createSsl(ca(), readFileSync(f('client.key')), readFileSync(f('client.pem')));
    expect(await getStatus(address, client, w.token)).toEqual({ code: 'OK', details: '' });
    // TLS does not replace the token
    expect((await getStatus(address, client, 'x'.repeat(40))).code).toBe('UNAUTHENTICATED');
  });

  it('refuses to listen beyond loopback without TLS, saying how to fix it', async () => {
    await expect(startServer({ ops: agentOps(w.agent), token: w.token, host: '0.0.0.0', logger: silentLogger })).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/--tls-cert FILE --tls-key FILE/) as unknown,
    });
  });

  it('refuses a TLS key file readable by others', () => {
    execFileSync('chmod', ['644', f('server.key')]);
    try {
      expect(() => readTlsFiles(f('server.pem'), f('server.key'))).toThrow();
    } finally {
      execFileSync('chmod', ['600', f('server.key')]);
    }
  });
});
