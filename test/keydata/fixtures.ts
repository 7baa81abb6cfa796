// Shared helpers for the keydata tests: the real tss-lib fixtures (see
// test/fixtures/tss-lib/README.md) and an independent whitespace stripper.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { isCustosError, type ErrorCode } from '../../shared/errors';

export type Scheme = 'ecdsa' | 'eddsa';
export const SCHEMES: readonly Scheme[] = ['ecdsa', 'eddsa'];
export const PARTIES = [0, 1, 2] as const;
export const ALL_FIXTURES = SCHEMES.flatMap((scheme) => PARTIES.map((party) => ({ scheme, party })));

const cache = new Map<string, Uint8Array>();

export function fixtureBytes(scheme: Scheme, party: number): Uint8Array {
  const key = `${scheme}/${party}`;
  let bytes = cache.get(key);
  if (bytes === undefined) {
    bytes = new Uint8Array(readFileSync(new URL(`../fixtures/tss-lib/${scheme}/keygen_data_${party}.json`, import.meta.url)));
    cache.set(key, bytes);
  }
  return bytes;
}

export function fixtureText(scheme: Scheme, party: number): string {
  return new TextDecoder().decode(fixtureBytes(scheme, party));
}

/**
 * Removes JSON's insignificant whitespace (outside strings) without parsing numbers: the compact
 * form Go's json.Marshal would have written for the fixture, computed independently of our parser.
 */
export function stripJsonWhitespace(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (inString) {
      out += c;
      if (c === '\\') out += text.charAt(++i);
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t') {
      out += c;
    }
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Asserts that `fn` throws a CustosError (with `code`, if given) and returns it. */
export function expectCustosError(fn: () => unknown, code?: ErrorCode): Error {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a CustosError to be thrown').toBeDefined();
  if (!isCustosError(thrown)) throw new Error(`expected a CustosError, got ${String(thrown)}`, { cause: thrown });
  if (code !== undefined) expect(thrown.code).toBe(code);
  return thrown;
}
