/**
 * Help text and shell completion, generated from a program's command table (node/cli/runner.ts),
 * so neither can drift from the commands the runner dispatches on.
 */
import type { CliIo, Command, Group, OptionsConfig, Program } from './runner';

/**
 * The words of a program's help in one language. English comes from the command table itself
 * (`englishHelp`); a program with catalogs (the custodian CLI, main/cli/i18n.ts) gives another
 * language's through `Program.helpText`. Option names, metavariables and usage lines stay as typed.
 */
export interface HelpText {
  readonly title: string;
  /** "Usage: " */
  readonly usage: string;
  /** "<command> [options]" */
  readonly synopsis: string;
  /** "(INVOCATION <command> --help: its options)" */
  readonly hint: (invocation: string) => string;
  /** "TITLE: GROUP (SUMMARY)", the first line of a group's help. */
  readonly groupTitle: (title: string, group: string, summary: string) => string;
  /** "Commands:" */
  readonly commands: string;
  /** "Options: " */
  readonly options: string;
  /** "Options everywhere: " */
  readonly everywhere: string;
  /** ". Details: INVOCATION GROUP <command> --help" */
  readonly details: (invocation: string, group: string) => string;
  /** " (repeatable)" */
  readonly repeatable: string;
  readonly footer?: string | undefined;
  readonly group: (group: Group) => string;
  readonly command: (command: Command) => { readonly summary: string; readonly help?: string | undefined };
}

/** The help as the command table says it (English). */
export function englishHelp<I extends CliIo>(program: Program<I>): HelpText {
  return {
    title: program.title,
    usage: 'Usage: ',
    synopsis: '<command> [options]',
    hint: (inv) => `(${inv} <command> --help: its options)`,
    groupTitle: (title, group, summary) => `${title}: ${group} (${summary})`,
    commands: 'Commands:',
    options: 'Options: ',
    everywhere: 'Options everywhere: ',
    details: (inv, group) => `. Details: ${inv} ${group} <command> --help`,
    repeatable: ' (repeatable)',
    footer: program.footer,
    group: (g) => g.summary,
    command: (c) => ({ summary: c.summary, help: c.help }),
  };
}

const visible = <I extends CliIo>(commands: readonly Command<I>[]): Command<I>[] => commands.filter((c) => c.hidden !== true);

function synopsis<I extends CliIo>(c: Command<I>): string {
  return [c.name, c.usage, c.args].filter((x) => x !== undefined && x !== '').join(' ');
}

/** Two columns: the left padded to `width`, or the right on its own line when the left is longer. */
function columns(rows: readonly (readonly [string, string])[], width: number): string[] {
  return rows.flatMap(([left, right]) => (left.length <= width ? [`  ${left.padEnd(width)}  ${right}`.trimEnd()] : [`  ${left}`, `  ${''.padEnd(width)}  ${right}`]));
}

function optionList(options: OptionsConfig, t: HelpText): string {
  return Object.entries(options)
    .map(([name, o]) => `--${name}${o.type === 'string' ? ' VALUE' : ''}${o.multiple === true ? t.repeatable : ''}${o.short === undefined ? '' : ` (-${o.short})`}`)
    .join(', ');
}

export function programHelp<I extends CliIo>(program: Program<I>, t: HelpText = englishHelp(program)): string {
  const rows = program.groups
    .filter((g) => visible(g.commands).length > 0)
    .map((g): [string, string] => {
      const cs = visible(g.commands);
      const only = cs.length === 1 && cs[0]?.name === g.name ? cs[0] : undefined;
      // A group with a command of its own name and others: "backup [status|restore]".
      const subs = cs.map((c) => c.name.split(' ').slice(1).join(' ')).filter((w) => w !== '');
      const left = only !== undefined ? g.name : subs.length < cs.length ? `${g.name} [${subs.join('|')}]` : `${g.name} ${subs.join('|')}`;
      return [left, t.group(g as unknown as Group)];
    });
  return [
    t.title,
    '',
    `${t.usage}${program.invocation} ${t.synopsis}   ${t.hint(program.invocation)}`,
    '',
    t.commands,
    ...columns(rows, Math.min(40, Math.max(...rows.map(([l]) => l.length)))),
    ...(t.footer === undefined ? [] : ['', t.footer]),
    '',
  ].join('\n');
}

export function groupHelp<I extends CliIo>(program: Program<I>, group: Group<I>, t: HelpText = englishHelp(program)): string {
  return [
    t.groupTitle(t.title, group.name, t.group(group as unknown as Group)),
    '',
    ...visible(group.commands).flatMap((c) => [`  ${program.invocation} ${synopsis(c)}`, `      ${t.command(c as unknown as Command).summary}`]),
    '',
    `${t.everywhere}${optionList(program.globals, t)}${t.details(program.invocation, group.name)}`,
    '',
  ].join('\n');
}

export function commandHelp<I extends CliIo>(program: Program<I>, command: Command<I>, t: HelpText = englishHelp(program)): string {
  const own = optionList(command.options, t);
  const words = t.command(command as unknown as Command);
  return [
    `${t.usage}${program.invocation} ${synopsis(command)}`,
    '',
    words.summary,
    ...(words.help === undefined ? [] : ['', words.help]),
    '',
    ...(own === '' ? [] : [`${t.options}${own}`]),
    `${t.everywhere}${optionList(program.globals, t)}`,
    '',
  ].join('\n');
}

/** A bash completion script: command words first, then the options of the command typed. */
export function completionScript<I extends CliIo>(program: Program<I>): string {
  const fn = `_${program.bin.replace(/[^A-Za-z0-9_]/g, '_')}_complete`;
  const cases = new Map<string, Set<string>>([['', new Set(['help', 'completion'])]]);
  const add = (key: string, word: string): void => {
    const set = cases.get(key) ?? new Set<string>();
    set.add(word);
    cases.set(key, set);
  };
  const globals = Object.keys(program.globals).map((o) => `--${o}`);
  for (const g of program.groups) {
    for (const c of visible(g.commands)) {
      const parts = c.name.split(' ');
      parts.forEach((p, i) => {
        add(parts.slice(0, i).join(' '), p);
      });
      for (const o of [...Object.keys(c.options).map((x) => `--${x}`), ...globals]) add(c.name, o);
    }
  }
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return [
    `# bash completion for ${program.bin}: source this file, or save it as /etc/bash_completion.d/${program.bin}`,
    `${fn}() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}" key="" w i',
    '  for ((i = 1; i < COMP_CWORD; i++)); do w="${COMP_WORDS[i]}"; [[ $w == -* ]] && break; key="${key:+$key }$w"; done',
    '  local words=""',
    '  case "$key" in',
    ...[...cases.entries()].map(([key, set]) => `    ${quote(key)}) words=${quote([...set].join(' '))} ;;`),
    '  esac',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    `complete -o default -F ${fn} ${program.bin}`,
    '',
  ].join('\n');
}
