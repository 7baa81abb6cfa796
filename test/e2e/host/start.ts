/**
 * Starts the end-to-end test host as its own process and prints ONE line of JSON on stdout:
 *   {"url":"http://127.0.0.1:PORT","token":"…","dataRoot":"/tmp/custos-e2e-…"}
 * then serves until SIGTERM or SIGINT (or stdin closes, when --exit-with-stdin), and removes its
 * temporary data. Used by global-setup.ts; by hand:
 *
 *   npm run build && node --import tsx test/e2e/host/start.ts [--port N] [--renderer DIR]
 *
 * The vaults it creates use a deliberately weak KDF (scrypt logN 10): test data only.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startHost } from './server';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    renderer: { type: 'string' },
    'exit-with-stdin': { type: 'boolean' },
    verbose: { type: 'boolean' },
  },
});

const host = await startHost({
  ...(values.port === undefined ? {} : { port: Number(values.port) }),
  ...(values.renderer === undefined ? {} : { rendererDir: values.renderer }),
  log: (event, fields) => {
    if (values.verbose === true || event === 'ipc-internal-error' || event === 'host-error') process.stderr.write(`[host] ${event} ${JSON.stringify(fields)}\n`);
  },
});
const renderer = values.renderer ?? 'out/renderer';
if (!existsSync(`${renderer}/index.html`)) process.stderr.write(`[host] warning: ${renderer}/index.html is missing; run \`npm run build\` first.\n`);
process.stderr.write('[host] WARNING: vaults made by the test host use a deliberately weak KDF (scrypt logN 10). Test data only.\n');
process.stdout.write(`${JSON.stringify({ url: host.url, token: host.token, dataRoot: host.dataRoot })}\n`);

let closing = false;
const stop = (): void => {
  if (closing) return;
  closing = true;
  void host.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (values['exit-with-stdin'] === true) {
  process.stdin.resume();
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
}
