/**
 * The unlock's heavy work off the main process's event loop (issue 10): a worker thread
 * (node:worker_threads) runs the passphrase KDF (scrypt) and decrypts the vault's record files, so
 * the window stays responsive and can show progress; the main thread only checks hashes and
 * signatures (node:crypto, native) and parses, file by file, while the worker decrypts the next.
 *
 * The worker's code is the self-contained function `workerMain` below, started with `eval: true`:
 * the desktop app's main process is ONE bundled file (electron.config.ts, test/packaging), and an
 * eval'd worker needs no second file and no module resolution, only Node built-ins. So it uses
 * node:crypto's primitives (X25519, HKDF-SHA256, HMAC-SHA256, ChaCha20-Poly1305, scrypt) to read the
 * standard age format (age-encryption.org/v1) for the one kind of file the store writes: X25519
 * stanzas, the header MAC, then the STREAM payload (64 KiB chunks, 11-byte big-endian counter and a
 * last-chunk flag). Nothing is released before the header MAC and every chunk's tag verify; any
 * failure is DECRYPT_FAILED, as typage would say (test/custodian/vault-worker.test.ts pushes files
 * written by typage and the `age` CLI through it, and tampered ones). Files that share one header
 * (one unlocked session writes them so) cost one X25519 operation.
 *
 * The age identity goes to the worker as its 32-byte secret, once per unlock; the worker is
 * terminated when the records are loaded (and on any failure), which frees its memory.
 */
import { Worker } from 'node:worker_threads';
import { bech32 } from '@scure/base';
import { CustosError } from '../../shared/errors';
import type { AgeOpener } from '../../shared/crypto/seal';
import { ServiceError } from './errors';
import type { ScryptKdf } from './kdf';

type Reply = { id: number; ok: true; bytes?: Uint8Array } | { id: number; ok: false; error: string };

/**
 * The worker (runs in the worker thread; self-contained: it may use nothing but Node built-ins,
 * loaded through `load`, the eval'd script's own `require`: a bundler rewrites a literal `require`
 * in this file, e.g. into an ESM shim that does not exist in the worker).
 */
const workerMain = (load: (id: string) => unknown): void => {
  const { parentPort } = load('node:worker_threads') as typeof import('node:worker_threads');
  const c = load('node:crypto') as typeof import('node:crypto');
  if (parentPort === null) return;
  const port = parentPort;
  const CHUNK = 64 * 1024;
  const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
  const SPKI = Buffer.from('302a300506032b656e032100', 'hex');
  let privateKey: import('node:crypto').KeyObject | null = null;
  let publicRaw: Buffer | null = null;
  /** Header text → file key (the files of one session share their header). */
  const fileKeys = new Map<string, Buffer>();

  const fail = (what: string): never => {
    throw new Error(what);
  };
  const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: string): Buffer => Buffer.from(c.hkdfSync('sha256', ikm, salt, info, 32));
  const b64 = (s: string, length: number): Buffer => {
    const b = Buffer.from(s, 'base64');
    // Canonical, unpadded base64 only (as the spec requires).
    if (b.toString('base64').replace(/=+$/, '') !== s || b.length !== length) fail('bad base64');
    return b;
  };
  const openAead = (key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer => {
    if (sealed.length < 16) fail('short');
    const d = c.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    d.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
  };

  const fileKeyOf = (header: string): Buffer => {
    const known = fileKeys.get(header);
    if (known !== undefined) return known;
    if (privateKey === null || publicRaw === null) return fail('no identity');
    const lines = header.split('\n');
    if (lines[0] !== 'age-encryption.org/v1') fail('not age v1');
    const macLine = lines[lines.length - 2] ?? '';
    if (lines[lines.length - 1] !== '' || !macLine.startsWith('--- ')) fail('no mac line');
    let fileKey: Buffer | null = null;
    let i = 1;
    while (i < lines.length - 2) {
      const args = (lines[i] ?? '').split(' ');
      if (args[0] !== '->' || args.length < 2) fail('bad stanza');
      let body = '';
      for (i++; ; i++) {
        const l = lines[i] ?? fail('unterminated stanza');
        if (l.length > 64) fail('long line');
        body += l;
        if (l.length < 64) {
          i++;
          break;
        }
      }
      if (fileKey !== null || args[1] !== 'X25519' || args.length !== 3) continue;
      const share = b64(args[2] ?? '', 32);
      const wrapped = b64(body, 32);
      const shared = c.diffieHellman({ privateKey, publicKey: c.createPublicKey({ key: Buffer.concat([SPKI, share]), format: 'der', type: 'spki' }) });
      if (shared.every((x) => x === 0)) fail('low-order share');
      const wrapKey = hkdf(shared, Buffer.concat([share, publicRaw]), 'age-encryption.org/v1/X25519');
      try {
        fileKey = openAead(wrapKey, new Uint8Array(12), wrapped);
      } catch {
        // Another recipient's stanza.
      }
    }
    if (fileKey === null) return fail('no stanza for this identity');
    const mac = b64(macLine.slice(4), 32);
    const macKey = hkdf(fileKey, new Uint8Array(0), 'header');
    const expected = c.createHmac('sha256', macKey).update(header.slice(0, header.length - macLine.length - 1 + 3), 'latin1').digest();
    if (!c.timingSafeEqual(expected, mac)) fail('header mac');
    fileKeys.set(header, fileKey);
    return fileKey;
  };

  const open = (file: Uint8Array): Uint8Array => {
    const limit = Math.min(file.length, 64 * 1024);
    const head = Buffer.from(file.buffer, file.byteOffset, limit).toString('latin1');
    const at = head.indexOf('\n--- ');
    const end = at < 0 ? -1 : head.indexOf('\n', at + 1);
    if (end < 0) fail('no header');
    const fileKey = fileKeyOf(head.slice(0, end + 1));
    const nonce = file.subarray(end + 1, end + 17);
    if (nonce.length !== 16) fail('no payload nonce');
    const key = hkdf(fileKey, nonce, 'payload');
    const body = file.subarray(end + 17);
    const count = Math.max(1, Math.ceil(body.length / (CHUNK + 16)));
    const out = new Uint8Array(Math.max(0, body.length - 16 * count));
    let o = 0;
    const n = Buffer.alloc(12);
    for (let k = 0; k < count; k++) {
      const chunk = body.subarray(k * (CHUNK + 16), Math.min(body.length, (k + 1) * (CHUNK + 16)));
      // Only the last chunk may be short, and it may be empty only when it is the only one.
      if (chunk.length < 16 || (k === count - 1 && chunk.length === 16 && count > 1)) fail('bad last chunk');
      n.writeUIntBE(Math.floor(k / 2 ** 32), 3, 4);
      n.writeUInt32BE(k % 2 ** 32, 7);
      n[11] = k === count - 1 ? 1 : 0;
      const plain = openAead(key, n, chunk);
      out.set(plain, o);
      o += plain.length;
    }
    return out;
  };

  port.on('message', (m: { op: string; id: number; bytes?: Uint8Array; salt?: Uint8Array; logN?: number }) => {
    try {
      if (m.op === 'identity') {
        const secret = m.bytes ?? fail('no secret');
        privateKey = c.createPrivateKey({ key: Buffer.concat([PKCS8, secret]), format: 'der', type: 'pkcs8' });
        publicRaw = c.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
        secret.fill(0);
        port.postMessage({ id: m.id, ok: true });
      } else if (m.op === 'open') {
        const plain = open(m.bytes ?? fail('no file'));
        port.postMessage({ id: m.id, ok: true, bytes: plain }, [plain.buffer as ArrayBuffer]);
      } else if (m.op === 'scrypt') {
        const pass = m.bytes ?? fail('no passphrase');
        const N = 2 ** (m.logN ?? 0);
        const key = c.scryptSync(pass, m.salt ?? fail('no salt'), 32, { N, r: 8, p: 1, maxmem: 128 * N * 8 + 16 * 1024 * 1024 });
        pass.fill(0);
        const bytes = new Uint8Array(key);
        key.fill(0);
        port.postMessage({ id: m.id, ok: true, bytes }, [bytes.buffer]);
      } else fail('unknown op');
    } catch (error) {
      port.postMessage({ id: m.id, ok: false, error: error instanceof Error ? error.message : 'failed' });
    }
  });
};

/** A worker thread for one unlock: the KDF and the decryption of record files. */
export class UnlockWorker {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (r: Reply) => void }>();
  #next = 1;
  #dead: Error | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (r: Reply) => {
      const w = this.#waiting.get(r.id);
      this.#waiting.delete(r.id);
      w?.resolve(r);
    });
    const down = (error: Error): void => {
      this.#dead = error;
      for (const [id, w] of this.#waiting) w.resolve({ id, ok: false, error: error.message });
      this.#waiting.clear();
    };
    worker.on('error', down);
    worker.on('exit', () => {
      down(new Error('the unlock worker stopped'));
    });
  }

  /** Starts one (undefined where worker threads are not available: the caller works in-process). */
  static start(): UnlockWorker | undefined {
    try {
      // A shim for the helper a TypeScript transpiler may have put into the function's text (keepNames).
      const source = `const __name = (f) => f;\n(${workerMain.toString()})(require);`;
      const worker = new Worker(source, { eval: true, name: 'custos-unlock' });
      worker.unref();
      return new UnlockWorker(worker);
    } catch {
      return undefined;
    }
  }

  #call(op: string, fields: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.#dead !== null) return Promise.resolve({ id: 0, ok: false, error: this.#dead.message });
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, { resolve });
      this.#worker.postMessage({ op, id, ...fields }, transfer);
    });
  }

  /** The KDF, computed in the worker (the passphrase bytes are copied there and wiped after). */
  readonly kdf: ScryptKdf = {
    derive: async (passphrase, salt, logN) => {
      const r = await this.#call('scrypt', { bytes: Uint8Array.from(passphrase), salt: Uint8Array.from(salt), logN });
      if (!r.ok || r.bytes === undefined) throw new ServiceError('INTERNAL', 'The passphrase could not be derived.', { cause: new Error(r.ok ? 'no key' : r.error) });
      return r.bytes;
    },
  };

  /** Gives the worker the age identity that opens the records (its 32-byte secret only). */
  async setIdentity(identity: string): Promise<void> {
    const secret = new Uint8Array(bech32.decodeToBytes(identity).bytes);
    const r = await this.#call('identity', { bytes: secret });
    secret.fill(0);
    if (!r.ok) throw new ServiceError('INTERNAL', 'The vault identity could not be given to the unlock worker.', { cause: new Error(r.error) });
  }

  /** Opens age files in the worker. The bytes given are moved there (the caller must not use them after). */
  readonly opener: AgeOpener = {
    open: async (ciphertext, what = 'share') => {
      const own = ciphertext.byteOffset === 0 && ciphertext.byteLength === ciphertext.buffer.byteLength && ciphertext.buffer instanceof ArrayBuffer ? ciphertext : Uint8Array.from(ciphertext);
      const r = await this.#call('open', { bytes: own }, [own.buffer as ArrayBuffer]);
      if (!r.ok || r.bytes === undefined) {
        throw new CustosError('DECRYPT_FAILED', `The sealed ${what} could not be decrypted with this identity: it was sealed to someone else or it is damaged.`, { cause: new Error(r.ok ? 'no bytes' : r.error) });
      }
      return r.bytes;
    },
  };

  /** Stops the worker (its keys and buffers go with it). */
  async stop(): Promise<void> {
    await this.#worker.terminate();
  }
}
