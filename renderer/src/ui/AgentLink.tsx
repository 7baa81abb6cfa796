/**
 * The link to the recovery agent (issue 13, "The rough edges"): one state, read from main
 * (agent:status, whose `check` main keeps until the URL or the token changes), shown by one
 * indicator in the navigation, the recovery station's header and Settings, so no two places
 * disagree; and the Settings section that sets the agent URL and its API token (memory only in
 * main, never shown back).
 *
 * The state: not configured (no URL, or no token this run), checking, unreachable (with the
 * reason), token rejected, authenticated; with the time of the check. It is checked when the URL
 * or the token changes and when the person asks (main/services/agent-link.ts says why never on a
 * timer: the probe counts against the token's recovery rate limit).
 */
import { useCallback, useEffect, useId, useState, useSyncExternalStore, type SubmitEvent } from 'react';
import type { IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { useI18n } from './i18n-context';
import { Notice } from './core';

type Status = ResponseOf<'agent:status'>;
type Check = ResponseOf<'agent:check'>;
export type LinkView = 'no-url' | 'no-token' | 'checking' | Exclude<Check['state'], 'not-configured'>;

interface Snapshot {
  readonly status: Status | null;
  readonly checking: boolean;
}

// ---- one store for every indicator of the window --------------------------------------------------

let snapshot: Snapshot = { status: null, checking: false };
const listeners = new Set<() => void>();
const publish = (next: Snapshot): void => {
  snapshot = next;
  for (const l of listeners) l();
};
const subscribe = (l: () => void): (() => void) => {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
};
const getSnapshot = (): Snapshot => snapshot;

/** Runs the check now (the person asked, or the URL or token changed). */
export async function recheckAgentLink(): Promise<void> {
  if (snapshot.checking) return;
  publish({ ...snapshot, checking: true });
  const r = await custos().agent.check();
  if (r.ok) {
    const s = await custos().agent.status();
    publish({ status: s.ok ? s.value : snapshot.status === null ? null : { ...snapshot.status, check: r.value }, checking: false });
  } else {
    publish({ ...snapshot, checking: false });
  }
}

let reading: Promise<void> | null = null;

/** Reads the state again from main; checks when a URL and a token are set and nothing was checked since they changed. */
export async function refreshAgentLink(fresh = false): Promise<void> {
  // After a change, a read that began before it does not count.
  if (fresh && reading !== null) await reading;
  // Several indicators mount together: one read (and at most one check) for all of them.
  reading ??= (async () => {
    try {
      const s = await custos().agent.status();
      if (!s.ok) return;
      publish({ ...snapshot, status: s.value });
      if (s.value.url !== null && s.value.tokenSet && s.value.check === null) await recheckAgentLink();
    } finally {
      reading = null;
    }
  })();
  return reading;
}

export function viewOf(s: Snapshot): LinkView {
  if (s.status === null || s.status.url === null) return 'no-url';
  if (!s.status.tokenSet) return 'no-token';
  const c = s.status.check;
  if (s.checking || c === null) return 'checking';
  return c.state === 'not-configured' ? 'no-token' : c.state;
}

export function useAgentLink(): { snapshot: Snapshot; view: LinkView } {
  const app = useApp();
  const s = useSyncExternalStore(subscribe, getSnapshot);
  // Settings moved (here or in another place): the URL change made main forget the token and the check.
  useEffect(() => {
    void refreshAgentLink();
  }, [app.settings.agentUrl]);
  return { snapshot: s, view: viewOf(s) };
}

// ---- the indicator -------------------------------------------------------------------------------

type ReasonKind = 'refused' | 'no-host' | 'timeout' | 'tls' | 'not-agent' | 'other';
/** main/services/agent-link.ts `reasonKindOf`. */
const REASON_KINDS: ReadonlySet<string> = new Set<ReasonKind>(['refused', 'no-host', 'timeout', 'tls', 'not-agent', 'other']);

const DOT: Record<LinkView, string> = {
  'no-url': 'link-dot-off',
  'no-token': 'link-dot-off',
  checking: 'link-dot-busy',
  unreachable: 'link-dot-bad',
  rejected: 'link-dot-bad',
  authenticated: 'link-dot-ok',
};

/**
 * The link's state. `compact`: one line (the navigation). Otherwise with the address, the check
 * time, the reason, "Check again", and `onSettings` (a way to Settings) when given.
 */
export function AgentLinkIndicator({ compact = false, onSettings }: { compact?: boolean; onSettings?: () => void }) {
  const { t, date, lang } = useI18n();
  const { snapshot: s, view } = useAgentLink();
  const c = s.status?.check ?? null;
  const shownCheck = view === 'checking' || view === 'no-url' || view === 'no-token' ? null : c;
  const reason = shownCheck?.problem?.details['reason'];
  const kind = shownCheck?.problem?.details['reasonKind'];
  const label = t(`agentLink_state_${view}`);
  if (compact) {
    return (
      <p className="nav-net link-line" data-testid="agent-link-nav" data-link={view}>
        <span className={`link-dot ${DOT[view]}`} aria-hidden="true" />
        <span>{view === 'no-url' ? t('navOffline') : label}</span>
      </p>
    );
  }
  return (
    <div className="link-indicator" data-testid="agent-link-indicator" data-link={view} role="status" aria-live="polite">
      <p className="link-line">
        <span className={`link-dot ${DOT[view]}`} aria-hidden="true" />
        <strong className="link-state">{label}</strong>
        {s.status?.url == null ? null : <span className="muted link-url">{s.status.url}</span>}
      </p>
      {shownCheck === null ? null : (
        <p className="muted link-time" data-testid="agent-link-time">
          {t('agentLink_checkedAt', { at: date(shownCheck.checkedAt) })}
        </p>
      )}
      {shownCheck?.problem === undefined ? null : (
        <div className="link-reason" data-testid="agent-link-reason" data-code={shownCheck.problem.code} data-reason={typeof kind === 'string' ? kind : undefined}>
          {typeof kind === 'string' && REASON_KINDS.has(kind) ? <p className="link-why">{t(`agentLink_reason_${kind as ReasonKind}`)}</p> : null}
          <p>{shownCheck.problem.message[lang]}</p>
          {typeof reason === 'string' && reason !== '' ? (
            <details className="detail">
              <summary>{t('technicalDetail')}</summary>
              <p>
                <code lang="en">{reason}</code>
              </p>
            </details>
          ) : null}
        </div>
      )}
      <div className="row">
        <button type="button" className="btn btn-small" disabled={view === 'no-url' || view === 'no-token' || view === 'checking'} onClick={() => void recheckAgentLink()}>
          {t('agentLink_recheck')}
        </button>
        {onSettings === undefined ? null : (
          <button type="button" className="btn btn-small btn-quiet" onClick={onSettings} data-testid="agent-link-settings">
            {t('agentLink_openSettings')}
          </button>
        )}
      </div>
    </div>
  );
}

// ---- a refusal at its field ----------------------------------------------------------------------

/** The refusal of one field, under it: the input names it with aria-describedby and aria-invalid. */
export function FieldProblem({ id, error, hint }: { id: string; error: IpcError; hint?: string }) {
  const { t, lang } = useI18n();
  const detail = error.detail !== undefined && error.detail !== error.message.en ? error.detail : undefined;
  return (
    <div className="field-problem" id={id} data-testid="field-problem" data-code={error.code}>
      <p className="help help-error">{error.message[lang]}</p>
      {hint === undefined ? null : <p className="help help-error">{hint}</p>}
      {detail === undefined ? null : (
        <details className="detail">
          <summary>{t('technicalDetail')}</summary>
          <p>
            <code>{error.code}</code> <span lang="en">{detail}</span>
          </p>
        </details>
      )}
    </div>
  );
}

/** The props an input gets for its help and its refusal. */
export const fieldAria = (helpId: string | undefined, problemId: string, problem: IpcError | null) => ({
  'aria-invalid': problem !== null ? (true as const) : undefined,
  'aria-describedby': [helpId, problem === null ? undefined : problemId].filter((x) => x !== undefined).join(' ') || undefined,
});

// ---- the Settings section --------------------------------------------------------------------------

/** Settings → Recovery agent: the URL, the token (set, forget; never shown back) and the indicator. */
export function AgentLinkSettings({ onSaved }: { onSaved: (what: string) => void }) {
  const { t } = useI18n();
  const app = useApp();
  const id = useId();
  const savedUrl = app.settings.agentUrl;
  const [url, setUrl] = useState(savedUrl ?? '');
  const [token, setToken] = useState('');
  const [urlProblem, setUrlProblem] = useState<IpcError | null>(null);
  const [tokenProblem, setTokenProblem] = useState<IpcError | null>(null);
  const { snapshot: s } = useAgentLink();
  const tokenSet = s.status?.tokenSet ?? false;
  useEffect(() => {
    setUrl(savedUrl ?? '');
  }, [savedUrl]);

  const saveUrl = useCallback(
    async (next: string | null): Promise<void> => {
      const r = await custos().settings.set({ change: { agentUrl: next } });
      if (!r.ok) {
        setUrlProblem(r.error);
        return;
      }
      setUrlProblem(null);
      onSaved(t('agentLink_title'));
      await app.refresh();
      await refreshAgentLink(true);
    },
    [app, onSaved, t],
  );
  const submitUrl = (e: SubmitEvent): void => {
    e.preventDefault();
    void saveUrl(url.trim() === '' ? null : url.trim());
  };
  const submitToken = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    const given = token.trim();
    if (given === '' && !tokenSet) return;
    const r = await custos().agent.setToken({ token: given === '' ? null : given });
    if (!r.ok) {
      setTokenProblem(r.error);
      return;
    }
    setTokenProblem(null);
    setToken('');
    await refreshAgentLink(true);
  };

  return (
    <section className="card agent-settings" aria-labelledby={`${id}-h`} data-testid="agent-settings">
      <h2 id={`${id}-h`}>{t('agentLink_title')}</h2>
      <Notice kind={savedUrl === null ? 'info' : 'warning'} title={savedUrl === null ? t('offlineNow') : t('linkedNow', { url: savedUrl })}>
        <p>{t('agentUrlExplain')}</p>
      </Notice>
      <AgentLinkIndicator />
      <form onSubmit={submitUrl} data-testid="agent-url-form" noValidate>
        <div className="row row-fields">
          <div className="field field-grow">
            <label htmlFor={`${id}-url`}>{t('agentUrlOptional')}</label>
            <input
              id={`${id}-url`}
              value={url}
              onChange={(e) => {
                setUrl(e.target.value);
              }}
              placeholder="https://agent.example.internal:8443"
              spellCheck={false}
              autoComplete="off"
              {...fieldAria(urlProblem === null ? `${id}-url-help` : undefined, `${id}-url-err`, urlProblem)}
            />
          </div>
          <button type="submit" className="btn">
            {t('save')}
          </button>
          {savedUrl === null ? null : (
            <button type="button" className="btn btn-quiet" onClick={() => void saveUrl(null)}>
              {t('unlinkAgent')}
            </button>
          )}
        </div>
        {/* Refused: the rule is said again in the refusal, under the field. */}
        {urlProblem === null ? (
          <p className="help" id={`${id}-url-help`}>
            {t('agentLink_urlRule')}
          </p>
        ) : (
          <FieldProblem id={`${id}-url-err`} error={urlProblem} hint={urlProblem.code === 'SETTINGS_INVALID' ? t('agentLink_urlRule') : undefined} />
        )}
      </form>
      <form onSubmit={(e) => void submitToken(e)} data-testid="agent-token-form" data-token={tokenSet ? 'yes' : 'no'} noValidate>
        <div className="row row-fields">
          <div className="field field-grow">
            <label htmlFor={`${id}-token`}>{t('agentToken')}</label>
            <input
              id={`${id}-token`}
              type="password"
              value={token}
              onChange={(e) => {
                setToken(e.target.value);
              }}
              autoComplete="off"
              spellCheck={false}
              disabled={savedUrl === null}
              placeholder={tokenSet ? t('agentLink_tokenKept') : ''}
              {...fieldAria(`${id}-token-help`, `${id}-token-err`, tokenProblem)}
            />
          </div>
          <button type="submit" className="btn" disabled={savedUrl === null || (token.trim() === '' && !tokenSet)}>
            {token.trim() === '' && tokenSet ? t('forgetToken') : t('useToken')}
          </button>
        </div>
        <p className="help" id={`${id}-token-help`}>
          {savedUrl === null ? t('agentLink_tokenNeedsUrl') : tokenSet ? t('tokenSetHelp') : t('agentLink_tokenHelp')}
        </p>
        {tokenProblem === null ? null : <FieldProblem id={`${id}-token-err`} error={tokenProblem} />}
      </form>
    </section>
  );
}
