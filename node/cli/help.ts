/**
 * Help text and shell completion, generated from a program's command table (node/cli/runner.ts),
 * so neither can drift from the commands the runner dispatches on.
 */
import type { CliIo, Command, Group, OptionsConfig, Program } from './runner';

const visible = <I extends CliIo>(commands: readonly Command<I>[]): Command<I>[] => commands.filter((c) => c.hidden !== true);

function synopsis<I extends CliIo>(c: Command<I>): string {
  return [c.name, c.usage, c.args].filter((x) => x !== undefined && x !== '').join(' ');
}

/** Two columns: the left padded to `width`, or the right on its own line when the left is longer. */
function columns(rows: readonly (readonly [string, string])[], width: number): string[] {
  return rows.flatMap(([left, right]) => (left.length <= width ? [`  ${left.padEnd(width)}  ${right}`.trimEnd()] : [`  ${left}`, `  ${''.padEnd(width)}  ${right}`]));
}

function optionList(options: OptionsConfig): string {
  return Object.entries(options)
    .map(([name, o]) => `--${name}${o.type === 'string' ? ' VALUE' : ''}${o.multiple === true ? ' (repeatable)' : ''}${o.short === undefined ? '' : ` (-${o.short})`}`)
    .join(', ');
}

export function programHelp<I extends CliIo>(program: Program<I>): string {
  const rows = program.groups
    .filter((g) => visible(g.commands).length > 0)
    .map((g): [string, string] => {
      const cs = visible(g.commands);
      const only = cs.length === 1 && cs[0]?.name === g.name ? cs[0] : undefined;
      return [only === undefined ? `${g.name} ${cs.map((c) => c.name.split(' ').slice(1).join(' ')).join('|')}` : g.name, g.summary];
    });
  return [
    program.title,
    '',
    `Usage: ${program.invocation} <command> [options]   (${program.invocation} <command> --help: its options)`,
    '',
    'Commands:',
    ...columns(rows, Math.min(40, Math.max(...rows.map(([l]) => l.length)))),
    ...(program.footer === undefined ? [] : ['', program.footer]),
    '',
  ].join('\n');
}

export function groupHelp<I extends CliIo>(program: Program<I>, group: Group<I>): string {
  return [
    `${program.title}: ${group.name} (${group.summary})`,
    '',
    ...visible(group.commands).flatMap((c) => [`  ${program.invocation} ${synopsis(c)}`, `      ${c.summary}`]),
    '',
    `Options everywhere: ${optionList(program.globals)}. Details: ${program.invocation} ${group.name} <command> --help`,
    '',
  ].join('\n');
}

export function commandHelp<I extends CliIo>(program: Program<I>, command: Command<I>): string {
  const own = optionList(command.options);
  return [
    `Usage: ${program.invocation} ${synopsis(command)}`,
    '',
    command.summary,
    ...(command.help === undefined ? [] : ['', command.help]),
    '',
    ...(own === '' ? [] : [`Options: ${own}`]),
    `Options everywhere: ${optionList(program.globals)}`,
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
