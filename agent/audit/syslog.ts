/**
 * The syslog sink for signed audit checkpoints (issue 9 §2: "appended to a file or syslog sink
 * outside the data directory"), next to the file sink of ./checkpoint.ts. Node's standard library
 * only (dgram, net), no dependency.
 *
 * Each checkpoint line becomes one RFC 5424 message: facility 13 ("log audit"), severity 5
 * (notice), APP-NAME `custos-agent`, MSGID `checkpoint`, no structured data, the checkpoint's JSON
 * line as MSG, so a collector's copy verifies with `agent audit verify` after it is extracted.
 *
 * Transports (`agent init --audit-sink`, `agent audit settings --sink`):
 *   syslog:udp://HOST[:PORT]   one datagram per message (RFC 5426), port 514 by default
 *   syslog:tcp://HOST[:PORT]   octet-counting framing (RFC 6587 §3.4.1), port 514 by default
 *   syslog:unix:/PATH          a local STREAM unix socket (syslog-ng `unix-stream()`, rsyslog
 *                              imptcp/imuxsock in stream mode), octet-counted. Node cannot send to
 *                              a datagram socket such as systemd's /dev/log without a native
 *                              module: for that, point the local daemon at udp://127.0.0.1:514.
 * UDP gives no delivery guarantee; TCP and unix report a failed delivery, which is kept as the
 * sink's error and retried at the next flush (./checkpoint.ts).
 */
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { connect, isIP } from 'node:net';
import { CustosError } from '../../shared/errors';

export type SyslogTarget =
  | { readonly transport: 'udp' | 'tcp'; readonly host: string; readonly port: number }
  | { readonly transport: 'unix'; readonly path: string };

export const SYSLOG_PREFIX = 'syslog:';
const FACILITY_LOG_AUDIT = 13;
const SEVERITY_NOTICE = 5;
const APP_NAME = 'custos-agent';
const MSG_ID = 'checkpoint';
const DEFAULT_PORT = 514;
const TIMEOUT_MS = 5000;

const bad = (spec: string, why: string): CustosError =>
  new CustosError('INVALID_PARAMETERS', `The syslog sink "${spec}" ${why}; give syslog:udp://HOST:PORT, syslog:tcp://HOST:PORT or syslog:unix:/PATH.`);

/** Parses `syslog:…` (the part after the prefix too); INVALID_PARAMETERS with the accepted forms. */
export function parseSyslogTarget(spec: string): SyslogTarget {
  const rest = spec.startsWith(SYSLOG_PREFIX) ? spec.slice(SYSLOG_PREFIX.length) : spec;
  if (rest.startsWith('unix:')) {
    const path = rest.slice('unix:'.length);
    if (!path.startsWith('/') || path.length > 107) throw bad(spec, 'needs an absolute socket path of at most 107 characters');
    return { transport: 'unix', path };
  }
  const m = /^(udp|tcp):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(rest);
  if (m === null) throw bad(spec, 'is not a syslog address');
  const host = (m[2] ?? '').replace(/^\[|\]$/g, '');
  const port = m[3] === undefined ? DEFAULT_PORT : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(spec, 'has a port outside 1..65535');
  return { transport: m[1] === 'tcp' ? 'tcp' : 'udp', host, port };
}

/** The canonical text of a target, as stored in the agent's settings. */
export function syslogSpec(t: SyslogTarget): string {
  if (t.transport === 'unix') return `${SYSLOG_PREFIX}unix:${t.path}`;
  return `${SYSLOG_PREFIX}${t.transport}://${isIP(t.host) === 6 ? `[${t.host}]` : t.host}:${String(t.port)}`;
}

/** One RFC 5424 message (no trailing newline). `msg` must be one line. */
export function rfc5424(msg: string, at: Date, options: { hostname?: string; procId?: string } = {}): string {
  if (/[\r\n]/.test(msg)) throw new RangeError('a syslog message is one line');
  const pri = FACILITY_LOG_AUDIT * 8 + SEVERITY_NOTICE;
  const host = (options.hostname ?? hostname()).replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
  const procId = (options.procId ?? String(process.pid)).slice(0, 128);
  return `<${String(pri)}>1 ${at.toISOString()} ${host} ${APP_NAME} ${procId} ${MSG_ID} - ${msg}`;
}

/** Octet-counting frame (RFC 6587 §3.4.1): `LEN SP MSG`. */
const frame = (m: string): string => `${String(Buffer.byteLength(m, 'utf8'))} ${m}`;

/** Sends the messages in order; resolves once they were handed over (UDP) or written and the stream closed (TCP, unix). */
export function sendSyslog(target: SyslogTarget, messages: readonly string[], timeoutMs = TIMEOUT_MS): Promise<void> {
  if (messages.length === 0) return Promise.resolve();
  if (target.transport === 'udp') return sendUdp(target.host, target.port, messages);
  return new Promise<void>((resolve, reject) => {
    const socket = target.transport === 'unix' ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
    let failed: Error | undefined;
    const timer = setTimeout(() => {
      failed = new Error(`no answer within ${String(timeoutMs)} ms`);
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket.once('error', (e) => {
      failed = e;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (failed) reject(failed);
      else resolve();
    });
    socket.once('connect', () => {
      socket.end(messages.map(frame).join(''));
    });
  });
}

function sendUdp(host: string, port: number, messages: readonly string[]): Promise<void> {
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  return new Promise<void>((resolve, reject) => {
    let left = messages.length;
    let failed: Error | undefined;
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      socket.close();
      if (failed) reject(failed);
      else resolve();
    };
    socket.once('error', (e) => {
      failed = e;
      done();
    });
    for (const m of messages) {
      socket.send(m, port, host, (e) => {
        if (e && !failed) failed = e;
        left -= 1;
        if (left === 0) done();
      });
    }
  });
}
