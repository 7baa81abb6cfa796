/**
 * The preload API over the test host: the SAME per-feature preload modules (preload/api.ts
 * `buildApi`), with only the transport swapped. Electron's preload passes `ipcRenderer.invoke` and
 * `ipcRenderer.on`; this passes a `fetch` POST to /ipc/<channel> and one server-sent-events stream
 * from /events, both with the host's bearer token. Runs in Chromium (bridge.ts) and in Node tests.
 */
import type { EventName, Invoke, IpcResult, Subscribe } from '../../../shared/ipc/contract';
import { TRANSPORT_FAILURE } from '../../../shared/ipc/transport';
import { fromWire, toWire } from '../../../shared/ipc/wire';
import { buildApi, type CustosApi } from '../../../preload/api';

export interface BridgeOptions {
  /** The host's origin, e.g. http://127.0.0.1:41234 */
  readonly baseUrl: string;
  readonly token: string;
  readonly fetch?: typeof fetch;
}

export function createBridge(options: BridgeOptions): { readonly api: CustosApi; close(): void } {
  const doFetch = options.fetch ?? ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => fetch(input, init));
  const auth = { authorization: `Bearer ${options.token}` };

  const invoke: Invoke = async (channel, payload) => {
    try {
      const res = await doFetch(`${options.baseUrl}/ipc/${encodeURIComponent(channel)}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: toWire(payload),
      });
      if (!res.ok) return { ok: false, error: TRANSPORT_FAILURE };
      return fromWire(await res.text()) as IpcResult<never>;
    } catch {
      return { ok: false, error: TRANSPORT_FAILURE };
    }
  };

  // One event stream, opened with the first listener, reopened if it drops while anyone listens.
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  let stream: AbortController | null = null;
  const count = (): number => [...listeners.values()].reduce((n, s) => n + s.size, 0);

  const deliver = (event: string, data: string): void => {
    const set = listeners.get(event as EventName);
    if (set === undefined) return;
    let payload: unknown;
    try {
      payload = fromWire(data);
    } catch {
      return;
    }
    for (const l of set) l(payload as never);
  };

  const open = (): void => {
    if (stream !== null) return;
    const abort = new AbortController();
    stream = abort;
    void (async () => {
      try {
        const res = await doFetch(`${options.baseUrl}/events`, { headers: auth, signal: abort.signal });
        const body = res.body;
        if (!res.ok || body === null) throw new Error('event stream refused');
        const reader = body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length > 0) deliver(event, data.join('\n'));
          }
        }
      } catch {
        // Dropped or refused: retried below while someone listens.
      }
      if (stream === abort) stream = null;
      if (!abort.signal.aborted && count() > 0) setTimeout(open, 500);
    })();
  };

  const subscribe: Subscribe = (event, listener) => {
    let set = listeners.get(event);
    if (set === undefined) listeners.set(event, (set = new Set()));
    const l = listener as (payload: never) => void;
    set.add(l);
    open();
    return () => {
      set.delete(l);
      if (count() === 0) {
        stream?.abort();
        stream = null;
      }
    };
  };

  return {
    api: buildApi(invoke, subscribe),
    close: () => {
      listeners.clear();
      stream?.abort();
      stream = null;
    },
  };
}
