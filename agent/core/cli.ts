/**
 * The agent's own commands (agent CLI, agent/cli.ts): `init` a data directory, `info` about it,
 * and `serve` the RPC API (gRPC, gRPC-Web and Connect) with its optional metrics endpoint.
 */
import { join } from 'node:path';
import { usage } from '../../node/cli/errors';
import { pairs } from '../../node/cli/format';
import type { Group } from '../../node/cli/runner';
import { AgentMetrics, isLoopback, startMetricsServer, type RunningMetricsServer } from '../metrics';
import { stderrLogger } from '../rpc/log';
import { readTlsFiles, serveAgent, type RunningServer } from '../rpc/server';
import { Agent, TOKEN_FILE } from '../service';
import { KEK_INIT_OPTIONS, kekChoiceFrom, kekInfoLines, kekInitLines } from '../kek/cli';
import { precheckSink } from '../audit/checkpoint';
import { command, dataDir, op, withAgent, type AgentCliIo, type ServeInfo } from './cli-common';

const init = command(
  { name: { type: 'string' }, 'audit-sink': { type: 'string' }, ...KEK_INIT_OPTIONS },
  {
    name: 'init',
    usage: '[--name NAME] [--kek-file PATH | --kek pkcs11 --pkcs11-module PATH --token-label L --key-label K [--pin-file F]] [--audit-sink file:PATH|syslog:udp://HOST:PORT|syslog:tcp://HOST:PORT|syslog:unix:/PATH]',
    summary: 'a new data directory (identity, KEK, API token)',
    help: 'The file KEK goes outside the data directory (default <data-dir>.kek.key). The HSM PIN comes from --pin-file or CUSTOS_PKCS11_PIN, never the command line. --audit-sink: where signed audit checkpoints also go, outside the data directory (a file, or syslog as RFC 5424).',
    run: async (ctx) => {
      const kekChoice = kekChoiceFrom(ctx.values, ctx.values.kek, ctx.io.env);
      const sinkSpec = ctx.values['audit-sink'];
      // checked before anything is created, so a bad sink leaves no half-made data directory
      if (sinkSpec !== undefined) precheckSink(sinkSpec, dataDir(ctx));
      const r = await Agent.init(dataDir(ctx), { ...(ctx.values.name === undefined ? {} : { name: ctx.values.name }), kekChoice, ...op(ctx.values) });
      const sink = sinkSpec === undefined ? undefined : await withAgent(ctx, async (a) => {
        const status = a.configureAudit({ sink: sinkSpec }, op(ctx.values));
        await a.auditSinkSettled();
        return { sink: status.sink ?? sinkSpec, error: a.auditStatus().sinkError };
      });
      return {
        data: { ...r, ...(sink === undefined ? {} : { auditSink: sink.sink, ...(sink.error === undefined ? {} : { auditSinkError: sink.error }) }) },
        lines: [
          `Initialised the agent in ${r.dataDir}.`,
          ...pairs([
            ['fingerprint code', r.code],
            ['agent card', r.cardFile],
            ['API token', `${r.tokenFile} (0600; RPC clients send it as a bearer token)`],
            ['KEK', r.kekId],
            ['audit sink', sink === undefined ? 'none (agent audit settings --sink adds one)' : sink.sink],
          ]),
          ...(sink?.error === undefined ? [] : [sink.error]),
          ...kekInitLines(r.dataDir),
          'Custodians pin the agent card after comparing its fingerprint code with you over a separate channel.',
        ],
      };
    },
  },
);

const info = command(
  {},
  {
    name: 'info',
    summary: "the agent's fingerprint code and counts",
    run: (ctx) =>
      withAgent(ctx, (a) => {
        const nodes = a.listNodes();
        const data = {
          dataDir: a.dataDir,
          fingerprint: a.fingerprint,
          code: a.code,
          kekId: a.kekId,
          nodes: nodes.length,
          custodians: a.listCustodians().filter((c) => c.enabled).length,
          approvers: a.listApprovers().filter((x) => x.enabled).length,
        };
        const kek = kekInfoLines(a.dataDir);
        return {
          data: { ...data, ...kek.data },
          lines: [
            `Agent in ${a.dataDir}`,
            ...pairs([
              ['fingerprint code', a.code],
              ['fingerprint', a.fingerprint],
              ['KEK', a.kekId],
              ['key shares', String(data.nodes)],
              ['custodians', `${String(data.custodians)} enabled`],
              ['approvers', `${String(data.approvers)} enabled`],
            ]),
            ...kek.lines,
          ],
        };
      }),
  },
);

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:]+)\]:([0-9]{1,5})$/.exec(text) ?? /^([^:[\]]+):([0-9]{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m?.[1] === undefined || !Number.isInteger(port) || port > 65535) throw usage(`${flag} is HOST:PORT, e.g. 127.0.0.1:50051 or [::1]:50051; got "${text}".`);
  return { host: m[1], port };
}

function stopRequested(io: AgentCliIo): Promise<void> {
  return new Promise((resolvePromise) => {
    const { signal } = io;
    if (signal !== undefined) {
      if (signal.aborted) resolvePromise();
      else
        signal.addEventListener(
          'abort',
          () => {
            resolvePromise();
          },
          { once: true },
        );
      return;
    }
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolvePromise();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const serve = command(
  { listen: { type: 'string' }, metrics: { type: 'string' }, 'rate-limit': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'client-ca': { type: 'string' } },
  {
    name: 'serve',
    usage: '[--listen 127.0.0.1:50051] [--tls-cert PEM --tls-key PEM [--client-ca PEM]] [--metrics 127.0.0.1:9464] [--rate-limit PER_MIN/BURST]',
    summary: 'the RPC API (gRPC, gRPC-Web, Connect) and, with --metrics, a loopback Prometheus endpoint',
    help: 'Clients send the token in <data>/api.token as a bearer token. Stops on Ctrl-C (SIGINT) or SIGTERM.',
    run: async (ctx) => {
      const { values, io } = ctx;
      const listen = hostPort(values.listen ?? '127.0.0.1:50051', '--listen');
      const metricsAt = values.metrics === undefined ? undefined : hostPort(values.metrics, '--metrics');
      if (metricsAt !== undefined && !isLoopback(metricsAt.host)) {
        throw usage(`--metrics listens on loopback only (127.0.0.1 or [::1]): its labels name the agent's keys. Got ${metricsAt.host}.`);
      }
      let rate: { perMinute: number; burst: number } | undefined;
      if (values['rate-limit'] !== undefined) {
        const m = /^([0-9]{1,6})\/([0-9]{1,6})$/.exec(values['rate-limit']);
        if (m === null || Number(m[1]) < 1 || Number(m[2]) < 1) throw usage('--rate-limit is PER_MINUTE/BURST, e.g. 10/5.');
        rate = { perMinute: Number(m[1]), burst: Number(m[2]) };
      }
      const certFile = values['tls-cert'];
      const keyFile = values['tls-key'];
      if ((certFile === undefined) !== (keyFile === undefined)) throw usage('--tls-cert and --tls-key go together.');
      if (values['client-ca'] !== undefined && certFile === undefined) throw usage('--client-ca (mutual TLS) needs --tls-cert and --tls-key.');
      const tls = certFile === undefined || keyFile === undefined ? undefined : readTlsFiles(certFile, keyFile, values['client-ca']);
      const dir = dataDir(ctx);
      const agent = await Agent.open(dir, op(values));
      let rpc: RunningServer | undefined;
      let metricsServer: RunningMetricsServer | undefined;
      try {
        const metrics = metricsAt === undefined ? undefined : new AgentMetrics(agent, { logger: stderrLogger });
        rpc = await serveAgent(agent, {
          host: listen.host,
          port: listen.port,
          ...(tls === undefined ? {} : { tls }),
          ...(metrics === undefined ? {} : { observer: metrics.observer }),
          ...(rate === undefined ? {} : { recoveryRateLimit: rate }),
        });
        if (metrics !== undefined && metricsAt !== undefined) metricsServer = await startMetricsServer(metrics, { ...metricsAt, logger: stderrLogger });
        const served: ServeInfo = { url: rpc.url, host: rpc.host, port: rpc.port, metricsUrl: metricsServer?.url ?? null, tokenFile: join(dir, TOKEN_FILE) };
        if (values.json === true) io.stdout(`${JSON.stringify({ ok: true, listening: served })}\n`);
        else {
          io.stdout(
            [
              `Agent ${agent.code} serving gRPC, gRPC-Web and Connect on ${served.url}`,
              ...pairs([
                ['token', `${served.tokenFile} (authorization: Bearer <token>)`],
                ['metrics', served.metricsUrl ?? 'off (serve --metrics 127.0.0.1:PORT)'],
              ]),
              'Stop with Ctrl-C (SIGINT) or SIGTERM.',
              '',
            ].join('\n'),
          );
        }
        io.onListening?.(served);
        await stopRequested(io);
        ctx.progress('Stopping: closing connections…');
      } finally {
        await Promise.all([rpc?.close(), metricsServer?.close()]);
        agent.close();
      }
      return { data: { stopped: true }, lines: ['Stopped.'] };
    },
  },
);

export const initGroup: Group<AgentCliIo> = { name: 'init', summary: 'a new data directory (identity, KEK, API token)', commands: [init] };
export const infoGroup: Group<AgentCliIo> = { name: 'info', summary: "the agent's fingerprint code and counts", commands: [info] };
export const serveGroup: Group<AgentCliIo> = { name: 'serve', summary: 'the RPC API and its metrics endpoint', commands: [serve] };
