/**
 * The agent CLI (issue 3, "Interfaces"): `npm run agent -- <command>` (tsx agent/cli.ts). Every
 * operation of the core `Agent` (agent/service.ts) and the RPC server with its metrics endpoint.
 * Each command group lives next to the capability it drives (agent/<capability>/cli*.ts); this file
 * only lists them. Parsing, help, --json and exit codes are node/cli/runner.ts's, shared with the
 * custodian CLI (main/cli.ts) and the approver's own program (approver/cli.ts, which has the
 * approver's keygen and sign: they run on the approver's machine, without a data directory).
 *
 * Secrets never travel in argv: keydata, receipts, approvals and exports are read from files named
 * by path; the API token stays in `<data>/api.token`. Secret material is written only to files
 * (0600), never to stdout or stderr.
 *
 * Output (node/cli/runner.ts): short aligned lines for a person, or one JSON object per command on
 * one line with `--json` (`{"ok":true,...}` or `{"ok":false,"error":{code,message,details}}`).
 * Progress of long work goes to stderr. Exit status: 0 done; 1 refused or failed (a sentence with the
 * code says why); 2 wrong usage; 3 done with refusals among the items (receipts, approvals, exports,
 * audit verify). `--debug` adds the stack of an error.
 */
import { installNodeCrypto } from '../node/crypto-install';
import { invokedAs, processIo, runProgram, type Group, type Program } from '../node/cli/runner';
import { auditGroup } from './audit/cli';
import { backupGroup, sharesGroup, statusGroup } from './backup/cli';
import { deliveryGroup } from './backup/delivery-cli';
import { infoGroup, initGroup, serveGroup } from './core/cli';
import { AGENT_GLOBALS, type AgentCliIo } from './core/cli-common';
import { inventoryGroup } from './inventory/cli';
import { kekGroup } from './kek/cli';
import { keyshareGroup } from './keyshare/cli';
import { drillGroup } from './recovery/drill-cli';
import { sessionGroup } from './recovery/session-cli';
import { approverGroup } from './registry/approver-cli';
import { custodianGroup } from './registry/custodian-cli';
import { deleteGroup } from './retention/cli';
import { settingsGroup } from './settings/cli';
import { tokenGroup } from './token/cli';

export type { AgentCliIo as CliIo, ServeInfo } from './core/cli-common';

/** The command groups, in the order of the help. A new group is one line here. */
const GROUPS: readonly Group<AgentCliIo>[] = [
  initGroup,
  infoGroup,
  serveGroup,
  custodianGroup,
  approverGroup,
  keyshareGroup,
  backupGroup,
  deliveryGroup,
  sessionGroup,
  statusGroup,
  sharesGroup,
  deleteGroup,
  inventoryGroup,
  settingsGroup,
  drillGroup,
  auditGroup,
  kekGroup,
  tokenGroup,
];

export const AGENT_PROGRAM: Program<AgentCliIo> = {
  invocation: 'npm run agent --',
  bin: 'custos-agent',
  title: 'Custos recovery agent CLI',
  globals: AGENT_GLOBALS,
  groups: GROUPS,
  footer: [
    'Every command takes --data DIR (or CUSTOS_AGENT_DATA). Everywhere: --json (one JSON object on stdout),',
    '--debug (stack traces), --quiet (no progress), --operator NAME (audit log; default the OS user).',
    'Fingerprints and session ids may be shortened to a unique prefix of at least 8 hex digits.',
    "The approver's own tools (keygen, sign) are a separate program: npm run approver -- --help.",
    'Exit status: 0 done, 1 refused, 2 usage, 3 done with refusals.',
  ].join('\n'),
  forbidden: [
    { option: 'token', message: 'The API token is never given on the command line; the agent keeps it in <data>/api.token (0600).' },
    { option: 'pin', message: 'The HSM PIN is never given on the command line (argv is visible to every local user): use --pin-file FILE (0600) or CUSTOS_PKCS11_PIN.' },
  ],
  before: () => {
    // node:crypto (OpenSSL): Ed25519 with exactly @noble/ed25519's accept set (12–17 % of a recovery
    // is signature checking, bench/agent.ts), SHA-256 and ChaCha20-Poly1305. Plain Node, shared with the custodian app.
    installNodeCrypto();
  },
};

export function main(argv: readonly string[], io: AgentCliIo = processIo): Promise<number> {
  return runProgram(AGENT_PROGRAM, argv, io);
}

if (invokedAs(/agent[\\/]cli\.[cm]?[jt]s$/)) {
  process.exitCode = await main(process.argv.slice(2));
}
