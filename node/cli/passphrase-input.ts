/**
 * A passphrase for a CLI, never from the command line (it would show in `ps` and the shell
 * history): from a file named by an option (which must be private, 0600, like a key file), from an
 * environment variable, or typed at a hidden prompt when stdin is a terminal. Used by the approver
 * program for its key file (approver/cli.ts); the custodian CLI has its own (--passphrase-fd).
 */
import { closeSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { usage } from './errors';
import { openPrivateFile } from '../private-file';

export interface PassphraseInput {
  /** The file option's value, if given (`--passphrase-file FILE`). */
  readonly file: string | undefined;
  /** The option's name, for sentences ("--passphrase-file"). */
  readonly fileOption: string;
  /** The environment variable consulted when no file is given. */
  readonly envName: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The prompt at a terminal ("Passphrase of approver.key: "). */
  readonly prompt: string;
  /** Ask twice at a terminal (a new passphrase). */
  readonly confirm?: boolean;
  /** For tests: whether stdin is a terminal. */
  readonly stdinIsTty?: boolean;
}

/** The passphrase from the file, else the environment, else a hidden prompt; USAGE when there is none. */
export async function readPassphrase(input: PassphraseInput): Promise<string> {
  if (input.file !== undefined) {
    const path = resolve(input.file);
    const fd = openPrivateFile(path, basename(path));
    let text: string;
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
    const pass = text.replace(/\r?\n$/, '');
    if (pass === '') throw usage(`${input.fileOption} ${basename(path)} is empty.`);
    return pass;
  }
  const env = input.env[input.envName];
  if (env !== undefined && env !== '') return env;
  if (!(input.stdinIsTty ?? process.stdin.isTTY)) {
    throw usage(`No passphrase: give ${input.fileOption} FILE (a file only you can read) or set ${input.envName}; a passphrase is never taken on the command line.`);
  }
  const first = await promptHidden(input.prompt);
  if (input.confirm === true && (await promptHidden('Repeat the passphrase: ')) !== first) throw usage('The two passphrases differ; nothing was written.');
  return first;
}

/** Reads one line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolvePromise(text);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(usage('Cancelled.'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
