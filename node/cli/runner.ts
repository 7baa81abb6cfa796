/**
 * One runner for every Custos command line: the agent (agent/cli.ts), the custodian CLI
 * (main/cli.ts) and the approver's tool (approver/cli.ts). A program is a table of commands, each
 * declared next to the capability it drives (agent/<capability>/cli*.ts, main/cli/*.ts); this file
 * parses, routes, prints help, writes the one response and chooses the exit status.
 *
 * Library choice: node:util.parseArgs under a small declarative command table, not `commander` or
 * `citty`. Both libraries were weighed: commander gives sub-commands and generated help, but its
 * errors, help layout and `process.exit` calls would need overriding to keep the CLIs' contract
 * (one coded sentence on stderr, exit 2 for usage, a JSON response on stdout with --json), and it
 * has no shell completion of its own either; citty is lighter but pre-1.0. parseArgs is strict
 * (unknown options and missing values are refused), typed from the same `as const` option maps, and
 * adds no dependency to a tool that handles key material. Help for the program, for each group and
 * for each command, and bash completion (`<program> completion bash`), are generated from the same
 * table the runner dispatches on, so they cannot drift from the commands. Adding a command is one
 * `command({options}, {name, run})` entry in its group's file; adding a group is one line in the
 * program's entry file.
 *
 * The one output policy (after Bitwarden CLI's base-program: one response per command, one exit-code
 * rule): on success the command's lines go to stdout, or with --json exactly one JSON object on one
 * line, `{"ok":true,...}`. On failure a sentence and its code go to stderr (`error: <sentence>
 * (<CODE>)`; `error:` and the code are fixed markers in every language, for scripts and log searches,
 * as git's `fatal:`; only the sentence is translated), and with --json also
 * `{"ok":false,"error":{code,message,details}}` on stdout. Progress of long work goes to stderr (not
 * with --quiet). Exit status: 0 done; 1 refused or failed; 2 wrong usage (every parse error,
 * unknown command, missing option); 3 done with refusals among the items, which a command says
 * itself. A failure that is not a coded error prints no internals unless --debug asks for its stack.
 * Secrets never come from argv: a program lists the options it refuses outright (`forbidden`) and
 * commands read secret material from files named by path.
 */
import { parseArgs } from 'node:util';
import { CodedError } from '../../shared/errors';
import { CliError, usage } from './errors';
import { aOrAn, toJson } from './format';
import { commandHelp, completionScript, englishHelp, groupHelp, programHelp, type HelpText } from './help';

/** Where a CLI writes; tests pass their own to run a program in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Long-running commands (agent serve) stop when this aborts; without it, on SIGINT or SIGTERM. */
  readonly signal?: AbortSignal;
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

/** One option for parseArgs. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
}

/** A parseArgs option map, e.g. `{ out: { type: 'string' } }`. */
export type OptionsConfig = Readonly<Record<string, OptionSpec>>;

export type Values<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];

/** What a command returns: the --json response (after `"ok": true`), the lines a person reads, the exit status. */
export interface Outcome {
  readonly data: Record<string, unknown>;
  readonly lines: readonly string[];
  readonly exit?: number;
}

export interface Ctx<V, I extends CliIo = CliIo> {
  readonly values: V;
  /** The positional arguments after the command's words. */
  readonly args: readonly string[];
  readonly io: I;
  /** The command's words, e.g. "custodian add". */
  readonly command: string;
  /** A line of progress on stderr, unless --quiet. */
  progress(text: string): void;
}

export interface CommandSpec<V, I extends CliIo> {
  /** The command's words: "status", "custodian add". */
  readonly name: string;
  /** What a person types after the words, e.g. "--card FILE --label L [--qr]". */
  readonly usage?: string;
  /** One line for the command lists. */
  readonly summary: string;
  /** More sentences for `<command> --help`. */
  readonly help?: string;
  /** The positional arguments it takes, e.g. "FILE|DIR..."; without this, none are accepted. */
  readonly args?: string;
  /** Left out of the help (a command kept only to say where it went). */
  readonly hidden?: boolean;
  /** Accepts any option (a command kept only to say where it went answers that, whatever was typed). */
  readonly lenient?: boolean;
  readonly run: (ctx: Ctx<V, I>) => Promise<Outcome> | Outcome;
}

export interface Command<I extends CliIo = CliIo> extends Omit<CommandSpec<Record<string, unknown>, I>, 'run'> {
  readonly options: OptionsConfig;
  readonly run: (ctx: Ctx<Record<string, unknown>, I>) => Promise<Outcome> | Outcome;
}

export interface Group<I extends CliIo = CliIo> {
  /** The first word of its commands. */
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command<I>[];
}

/** The failure as the runner prints it; a program may describe its own errors (e.g. in the user's language). */
export interface DescribedError {
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
  /** More lines for stderr after the sentence. */
  readonly more?: readonly string[];
  /** More fields in the --json error object. */
  readonly json?: Record<string, unknown>;
  /** False for an unexpected failure (not a coded error). */
  readonly known: boolean;
}

export interface Program<I extends CliIo = CliIo> {
  /** How a person starts it, e.g. "npm run agent --". */
  readonly invocation: string;
  /** The executable's name for shell completion, e.g. "custos-agent". */
  readonly bin: string;
  readonly title: string;
  /** Options every command takes (--json, --debug, --quiet, --help at least). */
  readonly globals: OptionsConfig;
  readonly groups: readonly Group<I>[];
  /** The command run when no command word is given (a program with one command, e.g. the drill). */
  readonly defaultCommand?: string;
  /** Text after the command list of the program's help. */
  readonly footer?: string;
  /** Options refused before anything is parsed, with the sentence that says why (secrets never in argv). */
  readonly forbidden?: readonly { readonly option: string; readonly message: string }[];
  /** Runs after parsing, before the command (checks of global options, process set-up). */
  readonly before?: (ctx: Ctx<Record<string, unknown>, I>) => Promise<void> | void;
  readonly describeError?: (error: unknown, ctx: Ctx<Record<string, unknown>, I>) => Promise<DescribedError | undefined> | DescribedError | undefined;
  /** The help in the user's language, from the options typed (e.g. --lang); without it, or when it gives nothing, the table's English. */
  readonly helpText?: (values: Readonly<Record<string, unknown>>, io: I) => Promise<HelpText | undefined> | HelpText | undefined;
}

/** The options every Custos CLI takes. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

/**
 * A typed command factory for a program with global options `G`: `command(options, spec)` types
 * `ctx.values` from the globals and the command's own options.
 */
export type CommandFactory<G extends OptionsConfig, I extends CliIo> = <O extends OptionsConfig>(options: O, spec: CommandSpec<Values<G & O>, I>) => Command<I>;

export function commandsFor<G extends OptionsConfig, I extends CliIo = CliIo>(_globals: G): CommandFactory<G, I> {
  return <O extends OptionsConfig>(options: O, spec: CommandSpec<Values<G & O>, I>): Command<I> => ({
    ...spec,
    options,
    run: spec.run as unknown as Command<I>['run'],
  });
}

/** Every command of a program, with the built-in `completion`. */
function allCommands<I extends CliIo>(program: Program<I>): Command<I>[] {
  return program.groups.flatMap((g) => g.commands);
}

/** The command named by the leading positionals (the longest match), and how many words it used. */
function findCommand<I extends CliIo>(program: Program<I>, words: readonly string[]): { command: Command<I>; used: number } | undefined {
  let best: { command: Command<I>; used: number } | undefined;
  for (const c of allCommands(program)) {
    const parts = c.name.split(' ');
    if (parts.length <= words.length && parts.every((p, i) => words[i] === p) && (best === undefined || parts.length > best.used)) best = { command: c, used: parts.length };
  }
  return best;
}

/** Globals and every command's options in one config, to find the command words wherever options sit. */
function unionOptions<I extends CliIo>(program: Program<I>): OptionsConfig {
  const union: Record<string, OptionSpec> = { ...program.globals };
  for (const c of allCommands(program)) {
    for (const [name, o] of Object.entries(c.options)) {
      const seen = union[name];
      // A name that takes a value anywhere must consume it here, or its value would look like a command word.
      if (seen === undefined || (seen.type === 'boolean' && o.type === 'string')) union[name] = { ...o, multiple: true };
    }
  }
  return union;
}

function describe(error: unknown): DescribedError {
  if (error instanceof CodedError) {
    const coded = error as CodedError;
    return { code: coded.code, message: coded.message, details: { ...coded.details }, known: true };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `An unexpected failure: ${message}`, details: {}, known: false };
}

/** Parses `argv`, runs the command and prints its one response; resolves to the exit status. */
export async function runProgram<I extends CliIo>(program: Program<I>, argv: readonly string[], io: I): Promise<number> {
  const wantsJson = argv.includes('--json');
  const fail = (error: CliError, hint?: string): number => {
    io.stderr(`error: ${error.message} (${error.code})\n${hint === undefined ? '' : `${hint}\n`}`);
    if (wantsJson) io.stdout(`${toJson({ ok: false, error: error.toJSON() })}\n`);
    return error.code === 'USAGE' ? 2 : 1;
  };
  for (const f of program.forbidden ?? []) {
    if (argv.some((a) => a === `--${f.option}` || a.startsWith(`--${f.option}=`))) return fail(usage(f.message));
  }

  // Pass 1: where are the command words? Every option the program knows, leniently.
  let words: string[];
  let wordIndexes: number[];
  let help: boolean;
  let firstValues: Record<string, unknown>;
  try {
    const { tokens, values } = parseArgs({ args: [...argv], options: unionOptions(program), allowPositionals: true, strict: false, tokens: true });
    const positional = tokens.filter((t) => t.kind === 'positional');
    words = positional.map((t) => t.value);
    wordIndexes = positional.map((t) => t.index);
    help = values['help'] === true || (Array.isArray(values['help']) && values['help'].includes(true));
    firstValues = values;
  } catch (error) {
    return fail(usage(error instanceof Error ? error.message : String(error)), `Run "${program.invocation} --help" for the commands.`);
  }

  if (words[0] === 'completion') {
    if (words[1] !== 'bash') return fail(usage('completion bash: prints a bash completion script (source it, or save it in /etc/bash_completion.d/).'));
    io.stdout(completionScript(program));
    return 0;
  }
  const asked = words[0] === 'help' ? words.slice(1) : words;
  const fallback = asked.length === 0 ? allCommands(program).find((c) => c.name === program.defaultCommand) : undefined;
  const found = findCommand(program, asked) ?? (fallback === undefined ? undefined : { command: fallback, used: 0 });
  const helpText = async (): Promise<HelpText> => (await program.helpText?.(firstValues, io)) ?? englishHelp(program);
  if (found !== undefined && (help || words[0] === 'help')) {
    io.stdout(commandHelp(program, found.command, await helpText()));
    return 0;
  }
  if (found === undefined && (words.length === 0 || words[0] === 'help' || help)) {
    const group = program.groups.find((g) => g.name === asked[0]);
    if (group !== undefined) {
      io.stdout(groupHelp(program, group, await helpText()));
      return 0;
    }
    if (asked.length > 0) return fail(usage(`Unknown command "${asked.join(' ')}".`), `Run "${program.invocation} --help" for the commands.`);
    io.stdout(programHelp(program, await helpText()));
    return words.length === 0 && !help ? 2 : 0;
  }
  if (found === undefined) {
    const group = program.groups.find((g) => g.name === words[0]);
    if (group !== undefined && group.commands.length > 0) {
      const subs = group.commands.filter((c) => c.hidden !== true).map((c) => c.name.split(' ').slice(1).join(' '));
      return fail(
        usage(words[1] === undefined ? `Name ${aOrAn(group.name)} command: ${subs.join(', ')}.` : `"${words[1]}" is not ${aOrAn(group.name)} command; it has ${subs.join(', ')}.`),
        `Run "${program.invocation} ${group.name} --help" for what each does.`,
      );
    }
    return fail(usage(`Unknown command "${words[0] ?? ''}".`), `Run "${program.invocation} --help" for the commands.`);
  }
  const { command, used } = found;

  // Pass 2: strictly, the globals and this command's own options.
  const skip = new Set(wordIndexes.slice(0, used));
  let values: Record<string, unknown>;
  let args: string[];
  try {
    const parsed = parseArgs({ args: argv.filter((_a, i) => !skip.has(i)), options: { ...program.globals, ...command.options }, allowPositionals: true, strict: command.lenient !== true });
    values = parsed.values;
    args = parsed.positionals;
  } catch (error) {
    return fail(usage(error instanceof Error ? error.message : String(error)), `Run "${program.invocation} ${command.name} --help" for its options.`);
  }
  if (command.args === undefined && args.length > 0) {
    return fail(usage(`${command.name} takes no arguments; got "${args[0] ?? ''}".`), `Run "${program.invocation} ${command.name} --help" for its options.`);
  }
  const ctx: Ctx<Record<string, unknown>, I> = {
    values,
    args,
    io,
    command: command.name,
    progress: (text) => {
      if (values['quiet'] !== true) io.stderr(`${text}\n`);
    },
  };
  try {
    await program.before?.(ctx);
    const outcome = await command.run(ctx);
    if (values['json'] === true) io.stdout(`${toJson({ ok: true, ...outcome.data })}\n`);
    else io.stdout(outcome.lines.map((l) => `${l}\n`).join(''));
    return outcome.exit ?? 0;
  } catch (error) {
    const e = (await program.describeError?.(error, ctx)) ?? describe(error);
    io.stderr(`error: ${e.message} (${e.code})\n${(e.more ?? []).map((l) => `${l}\n`).join('')}`);
    if (!e.known && values['debug'] !== true) io.stderr('Run again with --debug to see where it failed.\n');
    if (values['debug'] === true && error instanceof Error && error.stack !== undefined) io.stderr(`${error.stack}\n`);
    if (values['json'] === true) io.stdout(`${toJson({ ok: false, error: { code: e.code, message: e.message, details: e.details, ...e.json } })}\n`);
    return e.code === 'USAGE' ? 2 : 1;
  }
}

/** True when this module's file is the script node was started with (`tsx agent/cli.ts`). */
export function invokedAs(pattern: RegExp): boolean {
  return process.argv[1] !== undefined && pattern.test(process.argv[1]);
}
