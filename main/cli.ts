/**
 * The headless custodian CLI: `npm run custos -- <command>` (tsx main/cli.ts). The same services
 * as the desktop app (main/services/), for scripted drills and automation. Each command group is a
 * file in main/cli/; parsing, help, --json and exit codes are node/cli/runner.ts's, shared with the
 * agent CLI (agent/cli.ts) and the approver's program (approver/cli.ts).
 *
 * Passphrase: from the environment variable CUSTOS_PASSPHRASE or a file descriptor
 * (`--passphrase-fd N`), or typed at a terminal prompt. Never on the command line: it would be
 * visible in `ps` and in shell history. Note: `npm run` and `tsx` pass on only descriptors 0-2
 * (tsx uses 3 for its own IPC), so through `npm run custos` use `--passphrase-fd 0` with the
 * passphrase on standard input; descriptors 3 and up work with `node --import tsx main/cli.ts`.
 *
 * Output (node/cli/runner.ts): sentences for a person, in the vault's language for errors, or one
 * JSON object on one line with `--json`. Exit status: 0 done; 1 refused or failed (a sentence says
 * why, and what to do); 2 wrong usage; 3 done with refusals or failures among the items (import,
 * verify-all, audit verify).
 */
import { installNodeCrypto } from '../node/crypto-install';
import { invokedAs, processIo, runProgram, type CliIo, type Group, type Program } from '../node/cli/runner';
import { auditGroup } from './cli/audit';
import { checkLanguage, CUSTODIAN_GLOBALS, custodianHelpText, describeCustodianError } from './cli/common';
import { deleteGroup, purgeGroup, rollbackGroup, supersedeGroup } from './cli/deletion';
import { inventoryGroup } from './cli/inventory';
import { receiptGroup } from './cli/receipts';
import { recoveryGroup } from './cli/recovery';
import { settingsGroup } from './cli/settings';
import { detailsGroup, importGroup, listGroup, verifyAllGroup } from './cli/shares';
import { pinAgentGroup, rotateAgentGroup, trustGroup } from './cli/trust';
import { backupGroup, passphraseGroup } from './cli/backup';
import { cardGroup, vaultGroup } from './cli/vault';

/** The command groups, in the order of the help. A new group is one line here. */
const GROUPS: readonly Group[] = [
  vaultGroup,
  passphraseGroup,
  backupGroup,
  cardGroup,
  pinAgentGroup,
  trustGroup,
  rotateAgentGroup,
  importGroup,
  listGroup,
  detailsGroup,
  verifyAllGroup,
  receiptGroup,
  recoveryGroup,
  inventoryGroup,
  supersedeGroup,
  deleteGroup,
  rollbackGroup,
  purgeGroup,
  auditGroup,
  settingsGroup,
];

export const CUSTODIAN_PROGRAM: Program = {
  invocation: 'npm run custos --',
  bin: 'custos',
  title: 'Custos custodian CLI',
  globals: CUSTODIAN_GLOBALS,
  groups: GROUPS,
  footer: [
    'Options everywhere: --json (one JSON object on stdout), --lang en|zh-CN, --passphrase-fd N (0 = stdin), --debug.',
    'The passphrase comes from CUSTOS_PASSPHRASE, --passphrase-fd N, or a prompt; never from the command line.',
    '--vault defaults to CUSTOS_VAULT. Exit status: 0 done, 1 refused, 2 usage, 3 done with refusals.',
  ].join('\n'),
  forbidden: [{ option: 'passphrase', message: 'A passphrase is never accepted on the command line (it would show in `ps` and shell history). Use CUSTOS_PASSPHRASE or --passphrase-fd N.' }],
  before: (ctx) => {
    checkLanguage(ctx);
    installNodeCrypto();
  },
  describeError: describeCustodianError,
  // --help in --lang or the vault's language (main/cli/locales/); the English above is en.json's too.
  helpText: custodianHelpText,
};

export function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return runProgram(CUSTODIAN_PROGRAM, argv, io);
}

if (invokedAs(/main[\\/]cli\.[cm]?[jt]s$/)) {
  process.exitCode = await main(process.argv.slice(2));
}
