/**
 * The end-to-end test host (issue 4, "Tests": the Electron binary cannot run here, so the built
 * renderer runs in Debian's Chromium "through a test host that connects the real preload contract
 * to the real main-process services over loopback (random token, 127.0.0.1 only)").
 *
 * One small HTTP server on 127.0.0.1 (a random port unless told):
 *   GET  /…                the built renderer (out/renderer), with the app's Content-Security-Policy
 *   POST /ipc/<channel>    one IPC call: the body is the payload (shared/ipc/wire.ts JSON, bytes
 *                          tagged), the answer the IpcResult. It runs the SAME `dispatch`
 *                          (main/dispatch.ts) over the SAME services as the Electron main process.
 *   GET  /events           the events main would push (`progress`, `vault:locked`, …) as
 *                          server-sent events (`event: <name>` / `data: <wire JSON>`)
 *   /test/…                test control (only with `testControl`): a fresh profile, files for the
 *                          next "open" dialog, what "save" wrote, the clock, an idle lock.
 *
 * Every request except the static files needs `authorization: Bearer <token>` (a random token
 * printed once at start). The server listens on 127.0.0.1 only, refuses peers that are not
 * loopback, a Host header other than its own (DNS rebinding) and a foreign Origin.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { EVENT_NAMES, type EventName } from '../../../shared/ipc/contract';
import { fromWire, toWire } from '../../../shared/ipc/wire';
import { AppContext } from '../../../main/context';
import { dispatch } from '../../../main/dispatch';
import { CONTENT_SECURITY_POLICY } from '../../../main/harden';
import { installNodeVerifier } from '../../../node/ed25519';
import { SHEET_FONT_FILE } from '../../../main/services/sheet';
import { ScriptedDialogs } from './dialogs';

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);

export interface HostOptions {
  /** The built renderer (default out/renderer). */
  readonly rendererDir?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default: 32 random bytes, hex. */
  readonly token?: string;
  /** Where profiles (vault folders, downloads) go; default a new temp folder, removed on close. */
  readonly dataRoot?: string;
  /** scrypt work factor of vaults created here (default 10: a deliberately weak KDF, tests only). */
  readonly kdfLogN?: number;
  /** Enable /test/… control endpoints (default true). */
  readonly testControl?: boolean;
  /** Overrides of the profile's host services (tests inject an agent transport, timers…). */
  readonly services?: Partial<Pick<ConstructorParameters<typeof AppContext>[0], 'agentTransport' | 'timers'>>;
  readonly log?: (event: string, fields: Record<string, string>) => void;
}

export interface Profile {
  readonly id: number;
  readonly dir: string;
  readonly ctx: AppContext;
  readonly dialogs: ScriptedDialogs;
  /** `offsetMs` is added to Date.now() for the vault's clock. */
  readonly clock: { offsetMs: number };
}

export interface RunningHost {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly dataRoot: string;
  /** The current profile (a fresh one after each reset). */
  profile(): Profile;
  /** A fresh profile: new empty vault folder, settings, station, dialogs, clock. */
  reset(): Profile;
  /** Every event emitted since the last reset (for tests that drive the host without a page). */
  events(): { event: EventName; payload: unknown }[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.ico': 'image/x-icon',
};

const MAX_BODY_BYTES = 512 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      resolvePromise(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

export async function startHost(options: HostOptions = {}): Promise<RunningHost> {
  installNodeVerifier();
  const token = options.token ?? randomBytes(32).toString('hex');
  const tokenDigest = sha(token);
  const rendererDir = resolve(options.rendererDir ?? join(ROOT, 'out/renderer'));
  const ownsData = options.dataRoot === undefined;
  const dataRoot = options.dataRoot ?? mkdtempSync(join(tmpdir(), 'custos-e2e-'));
  const testControl = options.testControl ?? true;
  const log = options.log ?? ((): void => undefined);
  const streams = new Set<ServerResponse>();
  let recorded: { event: EventName; payload: unknown }[] = [];
  let nextId = 0;
  let current: Profile | undefined;

  const broadcast = (event: EventName, payload: unknown): void => {
    recorded.push({ event, payload });
    const frame = `event: ${event}\ndata: ${toWire(payload)}\n\n`;
    for (const s of streams) s.write(frame);
  };

  /** (H5) Holds unlocks after their first record file while `held` (the unlock screen's progress bar, seen half-way). */
  const unlockGate = {
    held: false,
    waiting: [] as (() => void)[],
    wait(): Promise<void> {
      return this.held ? new Promise((resolve) => this.waiting.push(resolve)) : Promise.resolve();
    },
    set(hold: boolean): void {
      this.held = hold;
      if (!hold) for (const go of this.waiting.splice(0)) go();
    },
  };

  const newProfile = (): Profile => {
    current?.ctx.dispose();
    const id = ++nextId;
    const dir = join(dataRoot, `profile-${String(id)}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dialogs = new ScriptedDialogs(join(dir, 'downloads'));
    const clock = { offsetMs: 0 };
    const ctx = new AppContext({
      vaultDir: join(dir, 'vault'),
      sheetFontPath: join(ROOT, 'resources/fonts', SHEET_FONT_FILE),
      dialogs,
      emit: broadcast,
      log,
      app: { version: 'e2e', platform: process.platform },
      // (H5) onUnlockRead: an unlock waits here after each record file while the test holds it (control 'hold-unlock').
      vaultOptions: { clock: () => Date.now() + clock.offsetMs, onUnlockRead: () => unlockGate.wait() },
      createOptions: { kdfLogN: options.kdfLogN ?? 10, allowWeakKdf: true },
      ...options.services,
    });
    const profile: Profile = { id, dir, dialogs, ctx, clock };
    recorded = [];
    current = profile;
    return profile;
  };
  newProfile();
  const profile = (): Profile => {
    if (current === undefined) throw new Error('no profile');
    return current;
  };

  let port = 0;
  const origin = (): string => `http://127.0.0.1:${String(port)}`;

  const authorized = (req: IncomingMessage): boolean => {
    const m = /^Bearer ([\x21-\x7e]+)$/.exec(req.headers.authorization ?? '');
    return m?.[1] !== undefined && timingSafeEqual(sha(m[1]), tokenDigest);
  };

  const send = (res: ServerResponse, status: number, body: string, type = 'application/json'): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };

  const serveStatic = async (res: ServerResponse, pathname: string): Promise<void> => {
    const rel = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname)).replace(/^[/\\]+/, '');
    const file = resolve(rendererDir, rel);
    let body: Buffer | undefined;
    if (file === rendererDir || file.startsWith(rendererDir + sep)) body = await fsp.readFile(file).catch(() => undefined);
    if (body === undefined) {
      send(res, 404, `not found${pathname === '/index.html' || pathname === '/' ? ': build the renderer first (npm run build)' : ''}`, 'text/plain');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  };

  /** A /test/… control action: the JSON answer, or undefined for an unknown action. */
  const control = async (req: IncomingMessage, action: string): Promise<unknown> => {
    const p = profile();
    const body = req.method === 'POST' ? fromWire((await readBody(req)) || '{}') : {};
    const arg = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    switch (action) {
      case 'reset':
        unlockGate.set(false);
        return { profile: newProfile().id };
      case 'open-files': {
        const files = arg['files'];
        if (!Array.isArray(files)) throw new Error('open-files takes { files: [{ name, bytes }] }');
        p.dialogs.openQueue.push(files as { name: string; bytes: Uint8Array }[]);
        return { queued: p.dialogs.openQueue.length };
      }
      case 'choose-folder': {
        // (H11) The folder the next "choose folder" dialog answers (null: cancelled).
        const folder = arg['folder'];
        if (folder !== null && typeof folder !== 'string') throw new Error('choose-folder takes { folder: string | null }');
        p.dialogs.folderQueue.push(folder);
        return { queued: p.dialogs.folderQueue.length };
      }
      case 'cancel-next-save':
        p.dialogs.cancelNextSave = true;
        return {};
      case 'saved':
        return { saved: p.dialogs.saved, calls: p.dialogs.calls };
      case 'clock':
        if (typeof arg['advanceSeconds'] === 'number') p.clock.offsetMs += arg['advanceSeconds'] * 1000;
        if (typeof arg['nowMs'] === 'number') p.clock.offsetMs = arg['nowMs'] - Date.now();
        return { nowMs: Date.now() + p.clock.offsetMs };
      case 'hold-unlock':
        unlockGate.set(arg['hold'] === true);
        return { held: unlockGate.held, waiting: unlockGate.waiting.length };
      case 'idle':
        // As if the auto-lock timer fired: the same lock and the same `vault:locked` event.
        await p.ctx.lock('idle');
        return {};
      case 'events':
        return { events: recorded };
      default:
        return undefined;
    }
  };

  /** Answers one request; the status and JSON body, or null when the answer was already written. */
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<{ status: number; body: unknown } | null> => {
    const peer = req.socket.remoteAddress ?? '';
    if (peer !== '127.0.0.1' && peer !== '::ffff:127.0.0.1') return { status: 403, body: { error: 'loopback only' } };
    if (req.headers.host !== `127.0.0.1:${String(port)}`) return { status: 403, body: { error: 'wrong Host' } };
    const reqOrigin = req.headers.origin;
    if (reqOrigin !== undefined && reqOrigin !== origin()) return { status: 403, body: { error: 'foreign Origin' } };
    const path = new URL(req.url ?? '/', origin()).pathname;
    if (req.method === 'GET' && !path.startsWith('/ipc/') && path !== '/events' && !path.startsWith('/test/')) {
      await serveStatic(res, path);
      return null;
    }
    if (!authorized(req)) return { status: 401, body: { error: 'token required' } };
    if (path === '/events' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': custos test host events\n\n');
      streams.add(res);
      const beat = setInterval(() => {
        res.write(': beat\n\n');
      }, 15_000);
      req.on('close', () => {
        clearInterval(beat);
        streams.delete(res);
      });
      return null;
    }
    if (path.startsWith('/ipc/') && req.method === 'POST') {
      const channel = decodeURIComponent(path.slice('/ipc/'.length));
      let payload: unknown;
      try {
        payload = fromWire(await readBody(req));
      } catch {
        payload = Symbol('unreadable body'); // refused by the contract like any bad payload
      }
      return { status: 200, body: await dispatch(channel, payload, profile().ctx) };
    }
    if (testControl && path.startsWith('/test/')) {
      const answer = await control(req, path.slice('/test/'.length));
      return answer === undefined ? { status: 404, body: { error: 'unknown control' } } : { status: 200, body: answer };
    }
    return { status: 404, body: { error: 'not found' } };
  };

  const server = createServer((req, res) => {
    handle(req, res)
      .then((answer) => {
        if (answer !== null) send(res, answer.status, toWire(answer.body));
      })
      .catch((error: unknown) => {
        log('host-error', { message: error instanceof Error ? error.message : String(error) });
        if (!res.headersSent) send(res, 500, toWire({ error: 'host error' }));
        else res.end();
      });
  });

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the test host has no TCP address');
  port = address.port;

  return {
    url: origin(),
    port,
    token,
    dataRoot,
    profile,
    reset: newProfile,
    events: () => [...recorded],
    close: () =>
      new Promise<void>((resolvePromise) => {
        current?.ctx.dispose();
        for (const s of streams) s.end();
        streams.clear();
        server.closeAllConnections();
        server.close(() => {
          if (ownsData) rmSync(dataRoot, { recursive: true, force: true });
          resolvePromise();
        });
      }),
  };
}

/** The event names the host streams (for the bridge's parser and its tests). */
export const HOST_EVENTS: readonly EventName[] = EVENT_NAMES;
