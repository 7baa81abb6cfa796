/**
 * Files named on a command line, read the same way by both CLIs: a size limit before reading, a
 * folder standing for its files, and a coded IO_FAILED error that names the file (never its bytes).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, usage } from './errors';
import { aOrAn } from './format';

/** Reads one input file of at most `max` bytes; `what` names it in the sentence of a refusal. */
export function readInput(path: string, what: string, max = 4 * 1024 * 1024): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CliError('IO_FAILED', `${path} is not a file.`, { details: { file: path } });
    size = st.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('IO_FAILED', `The ${what} file ${path} does not exist or cannot be read.`, { details: { file: path }, cause: error });
  }
  if (size > max) throw new CliError('IO_FAILED', `${path} is ${String(size)} bytes: too large for ${aOrAn(what)} (at most ${String(max)}).`, { details: { file: path } });
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new CliError('IO_FAILED', `The ${what} file ${path} could not be read.`, { details: { file: path }, cause: error });
  }
}

/** Files named on the command line; a folder stands for its files (sorted, no dot files). */
export function expandInputs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (error) {
      throw new CliError('IO_FAILED', `${p} does not exist or cannot be read.`, { details: { file: p }, cause: error });
    }
    if (!isDir) {
      out.push(p);
      continue;
    }
    for (const f of readdirSync(p).sort()) {
      const full = join(p, f);
      if (!f.startsWith('.') && statSync(full).isFile()) out.push(full);
    }
  }
  return out;
}

/**
 * A whole-number option (`--index 3`), checked before anything runs: text that is not a whole
 * number in [min, max] is wrong usage (exit 2), in every CLI.
 */
export function wholeNumber(text: string | undefined, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw usage(`--${name} is a whole number from ${String(min)} to ${String(max)}; got "${text}".`);
  }
  return Number(text);
}

/** An option that takes one of a few words (`--language en|zh-CN`): anything else is wrong usage (exit 2). */
export function oneOf<T extends string>(text: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) throw usage(`--${name} is one of ${allowed.join(', ')}; got "${text}".`);
  return text as T;
}
