/** How the CLIs lay out text for a person, and their one JSON encoding (node/cli/runner.ts). */
import { toHex } from '../../shared/bytes';

/** Rows as aligned columns (two spaces apart), trailing blanks trimmed. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

/** "label  value" pairs, indented, labels aligned. */
export function pairs(items: readonly (readonly [string, string])[], indent = '  '): string[] {
  const w = Math.max(...items.map(([k]) => k.length));
  return items.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`);
}

/** Unix seconds as an ISO 8601 instant without milliseconds. */
export const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/** JSON on one line (one response per command, JSON Lines friendly); byte arrays as hex, never "{0:…}". */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
}

/** "a" or "an" before a noun phrase ("an agent card", "a share envelope"): shared/article.ts. */
export { aOrAn } from '../../shared/article';
