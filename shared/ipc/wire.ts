/**
 * The IPC contract's values as JSON text, for transports without structured clone (the end-to-end
 * test host speaks HTTP on loopback; Electron's IPC does not need this). Byte arrays travel as
 * `{"$bytes": "<base64>"}`; everything else is plain JSON. What is decoded is still `unknown`: the
 * receiving side parses it with the contract's schemas like any other payload.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** Standard base64 (RFC 4648 §4) with padding. */
export function base64Encode(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(start + CHUNK, bytes.length);
    let out = '';
    for (let i = start; i < end; i += 3) {
      const a = bytes[i] ?? 0;
      const b = bytes[i + 1] ?? 0;
      const c = bytes[i + 2] ?? 0;
      const n = (a << 16) | (b << 8) | c;
      out += ALPHABET.charAt((n >> 18) & 63) + ALPHABET.charAt((n >> 12) & 63);
      out += i + 1 < end ? ALPHABET.charAt((n >> 6) & 63) : '=';
      out += i + 2 < end ? ALPHABET.charAt(n & 63) : '=';
    }
    parts.push(out);
  }
  return parts.join('');
}

export function base64Decode(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new TypeError('base64 text length must be a multiple of 4');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const ch = text.charCodeAt(i + j);
      const isPad = ch === 61 && i + j >= text.length - pad;
      const v = isPad ? 0 : ch < 128 ? (LOOKUP[ch] ?? -1) : -1;
      if (v < 0) throw new TypeError('not base64 text');
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** JSON text of `value`, byte arrays tagged. */
export function toWire(value: unknown): string {
  // The raw value from the holder, not `v`: a Node Buffer's toJSON would already have run on `v`.
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const raw = this[key];
    return raw instanceof Uint8Array ? { $bytes: base64Encode(raw) } : v;
  });
}

/** The value of wire JSON text, `{"$bytes": …}` objects back to Uint8Array. Throws on bad JSON or base64. */
export function fromWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const tagged = (v as { $bytes?: unknown }).$bytes;
      if (keys.length === 1 && keys[0] === '$bytes' && typeof tagged === 'string') return base64Decode(tagged);
    }
    return v;
  });
}
