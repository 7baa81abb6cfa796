/**
 * The syslog sink for signed audit checkpoints (issue 9 §2): RFC 5424 messages received on real
 * local sockets (UDP, TCP with octet counting, a unix stream socket), each message's checkpoint
 * verified with the agent's key, and the collected copy used to verify the chain; a sink that is
 * down is reported and gets what it missed when it is back; `agent init --audit-sink` sets it up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Agent } from '../../agent/service';
import { verifyAudit } from '../../agent/audit/log';
import { DB_FILE } from '../../agent/db';
import { parseSyslogTarget, rfc5424 } from '../../agent/audit/syslog';
import { openCheckpoint } from '../../shared/audit/checkpoint';
import { cliJson, removeTempDirs, tempDir } from '../agent-cli/helpers';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  removeTempDirs();
});

// <109>1 TIMESTAMP HOST custos-agent PID checkpoint - MSG   (facility 13 log audit, severity 5 notice)
const RFC5424 = /^<109>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) custos-agent (\d+) checkpoint - (\{.*\})$/;

function checkpointOf(message: string, key: Uint8Array): { size: number; head: string; line: string } {
  const m = RFC5424.exec(message);
  expect(m, message).not.toBeNull();
  const line = m![4]!;
  const opened = openCheckpoint(JSON.parse(line), [key]);
  expect(opened.ok).toBe(true);
  if (!opened.ok) throw new Error('unreachable');
  return { size: opened.body.size, head: opened.body.head, line };
}

/** Splits an octet-counted stream (RFC 6587 §3.4.1) into messages. */
function octetFrames(buf: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < buf.length) {
    const sp = buf.indexOf(0x20, at);
    const len = Number(buf.subarray(at, sp).toString('ascii'));
    expect(Number.isInteger(len) && len > 0).toBe(true);
    out.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
    at = sp + 1 + len;
  }
  return out;
}

async function udpCollector(): Promise<{ port: number; messages: string[] }> {
  const socket: UdpSocket = createSocket('udp4');
  const messages: string[] = [];
  socket.on('message', (m) => messages.push(m.toString('utf8')));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => socket.close(() => { r(); })));
  return { port: socket.address().port, messages };
}

async function streamCollector(listen: { port: number; host: string } | { path: string }): Promise<{ server: Server; port: number; messages: string[] }> {
  const messages: string[] = [];
  const server = createServer((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      messages.push(...octetFrames(Buffer.concat(chunks)));
    });
  });
  await new Promise<void>((r) => server.listen(listen, r));
  closers.push(() => new Promise<void>((r) => server.close(() => { r(); })));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr !== null ? addr.port : 0, messages };
}

/** An agent whose every 3rd entry makes a checkpoint, `n` entries after configuring the sink. */
async function agentWithSink(sink: string, n = 7): Promise<Agent> {
  const dir = join(tempDir(), 'data');
  await Agent.init(dir, { operator: 'ops-1' });
  const agent = await Agent.open(dir, { operator: 'ops-1' });
  closers.push(() => { agent.close(); });
  agent.configureAudit({ every: 3, sink });
  for (let i = 0; i < n; i++) await agent.addApprover(new TextEncoder().encode(`not a card ${String(i)}`)).catch(() => undefined);
  await agent.auditSinkSettled();
  return agent;
}

describe('syslog sink for audit checkpoints', () => {
  it('parses the three transports and refuses anything else with the accepted forms', () => {
    expect(parseSyslogTarget('syslog:udp://127.0.0.1:5514')).toEqual({ transport: 'udp', host: '127.0.0.1', port: 5514 });
    expect(parseSyslogTarget('syslog:tcp://[::1]')).toEqual({ transport: 'tcp', host: '::1', port: 514 });
    expect(parseSyslogTarget('syslog:unix:/run/syslog.sock')).toEqual({ transport: 'unix', path: '/run/syslog.sock' });
    for (const bad of ['syslog:http://x', 'syslog:udp://h:0', 'syslog:udp://h:70000', 'syslog:unix:relative', 'syslog:tcp://a b']) {
      expect(() => parseSyslogTarget(bad), bad).toThrow(/syslog:udp:\/\/HOST:PORT/);
    }
    expect(() => rfc5424('two\nlines', new Date())).toThrow(RangeError);
  });

  it('sends every checkpoint as an RFC 5424 datagram over UDP, and the collected copy verifies the chain', async () => {
    const c = await udpCollector();
    const agent = await agentWithSink(`syslog:udp://127.0.0.1:${String(c.port)}`);
    await expect.poll(() => c.messages.length).toBeGreaterThanOrEqual(2);
    const cps = c.messages.map((m) => checkpointOf(m, agent.publicKey));
    expect(cps.map((x) => x.size)).toEqual([...cps.map((x) => x.size)].sort((a, b) => a - b));
    const status = agent.auditStatus();
    expect(status).toMatchObject({ sink: `syslog:udp://127.0.0.1:${String(c.port)}`, sinkSize: status.lastCheckpoint?.size });
    expect(status.sinkError).toBeUndefined();

    // the database's checkpoints removed by an attacker: the syslog copy still pins the chain
    const db = new Database(join(agent.dataDir, DB_FILE), { readonly: true });
    try {
      const verdict = verifyAudit(db, { external: cps.map((x) => x.line).join('\n') });
      expect(verdict.ok).toBe(true);
      expect(verdict.checkpoints?.valid).toBeGreaterThanOrEqual(cps.length);
    } finally {
      db.close();
    }
  });

  it('frames messages with octet counting over TCP and over a unix stream socket', async () => {
    const tcp = await streamCollector({ port: 0, host: '127.0.0.1' });
    const a = await agentWithSink(`syslog:tcp://127.0.0.1:${String(tcp.port)}`);
    await expect.poll(() => tcp.messages.length).toBeGreaterThanOrEqual(2);
    expect(tcp.messages.map((m) => checkpointOf(m, a.publicKey).size).at(-1)).toBe(a.auditStatus().lastCheckpoint?.size);

    const path = join(tempDir('custos-syslog-'), 'log.sock');
    const unix = await streamCollector({ path });
    const b = await agentWithSink(`syslog:unix:${path}`);
    await expect.poll(() => unix.messages.length).toBeGreaterThanOrEqual(2);
    for (const m of unix.messages) checkpointOf(m, b.publicKey);
  });

  it('a collector that is down is reported; when it is back it gets what it missed, in order', async () => {
    const probe = await streamCollector({ port: 0, host: '127.0.0.1' });
    const port = probe.port;
    await new Promise<void>((r) => probe.server.close(() => { r(); })); // nothing listens on the port now
    const agent = await agentWithSink(`syslog:tcp://127.0.0.1:${String(port)}`);
    expect(agent.auditStatus().sinkError).toMatch(/cannot be reached \(ECONNREFUSED\)/);
    expect(agent.auditStatus().sinkSize).toBe(0);

    const back = await streamCollector({ port, host: '127.0.0.1' });
    for (let i = 0; i < 3; i++) await agent.addApprover(new TextEncoder().encode(`again ${String(i)}`)).catch(() => undefined);
    await agent.auditSinkSettled();
    expect(agent.auditStatus().sinkError).toBeUndefined();
    await expect.poll(() => back.messages.length).toBeGreaterThanOrEqual(3);
    const sizes = back.messages.map((m) => checkpointOf(m, agent.publicKey).size);
    const db = new Database(join(agent.dataDir, DB_FILE), { readonly: true });
    const stored = (db.prepare('SELECT size FROM audit_checkpoints ORDER BY size').all() as { size: number }[]).map((r) => r.size);
    db.close();
    expect(sizes).toEqual(stored); // every checkpoint, those made while it was down first, in order
  });

  it('agent init --audit-sink sets the sink up (file or syslog) and refuses a bad one before creating anything', async () => {
    const c = await udpCollector();
    const dir = join(tempDir(), 'data');
    const r = await cliJson('init', '--data', dir, '--audit-sink', `syslog:udp://127.0.0.1:${String(c.port)}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ auditSink: `syslog:udp://127.0.0.1:${String(c.port)}` });
    await expect.poll(() => c.messages.length).toBeGreaterThanOrEqual(1);

    const file = join(tempDir('custos-sink-'), 'checkpoints.jsonl');
    const dir2 = join(tempDir(), 'data');
    const f = await cliJson('init', '--data', dir2, '--audit-sink', `file:${file}`);
    expect(f.code, f.stderr).toBe(0);
    expect(f.json).toMatchObject({ auditSink: file });

    const dir3 = join(tempDir(), 'data');
    const bad = await cliJson('init', '--data', dir3, '--audit-sink', `file:${join(dir3, 'inside.jsonl')}`);
    expect(bad.code).not.toBe(0);
    expect(JSON.stringify(bad.json)).toContain('inside the agent data directory');
    const bad2 = await cliJson('init', '--data', dir3, '--audit-sink', 'syslog:ftp://x');
    expect(bad2.code).not.toBe(0);
    const { existsSync } = await import('node:fs');
    expect(existsSync(dir3)).toBe(false);
  });
});
