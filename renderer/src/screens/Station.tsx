/**
 * Recovery station (ops, on the machine that can reach the agent): custodians' export frames
 * scanned with the camera or their files opened; per recovery session, which shares arrived and
 * which are missing; submitted to the linked agent's recovery session, then completed. The link's
 * state heads the screen (ui/AgentLink.tsx, the same indicator as Settings); its URL and token are
 * set in Settings, which a station-only operator reaches from the bar above (App.tsx).
 */
import { useCallback, useEffect, useId, useState } from 'react';
import type { IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { importInputs, type Given } from '../lib/messages';
import { newOpId } from '../lib/ops';
import { DateText, Empty, Facts, Hex, Notice, Problem, ProgressBar, Reason, Screen, useProgress } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { InputZone } from '../ui/InputZone';
import { AgentLinkIndicator, useAgentLink } from '../ui/AgentLink';

type Session = ResponseOf<'station:list'>['sessions'][number];
type Added = ResponseOf<'station:add'>;
type Submitted = ResponseOf<'station:submit'>;
type State = 'empty' | 'sessions' | 'submitting' | 'submitted';

export function Station() {
  const { t } = useI18n();
  const [sessions, setSessions] = useState<Session[]>([]);
  const [added, setAdded] = useState<Added | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [submitted, setSubmitted] = useState<Record<string, Submitted>>({});
  const [unreadLocal, setUnreadLocal] = useState<string[]>([]);

  const load = useCallback(async (): Promise<void> => {
    const r = await custos().station.list();
    if (r.ok) setSessions(r.value.sessions);
    else setProblem(r.error);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const add = async (given: Given): Promise<void> => {
    setBusy(true);
    setProblem(null);
    const inputs = await importInputs(given);
    setUnreadLocal(inputs.unreadable);
    const r = await custos().station.add({ files: inputs.files, frames: inputs.frames });
    setBusy(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setAdded(r.value);
    setSessions(r.value.sessions);
  };

  let state: State = sessions.length === 0 ? 'empty' : 'sessions';
  if (submitting) state = 'submitting';
  else if (Object.keys(submitted).length > 0) state = 'submitted';

  return (
    <Screen name="station" state={state} title={t('stationTitle')} lead={t('stationLead')}>
      <StationAgentLink />
      <InputZone purpose="recovery-exports" multiple hint={t('dropExports')} camera="continuous" accept={['recovery-export', 'recovery-request']} busy={busy} onGiven={(g) => void add(g)} testId="station-input" />
      {problem === null ? null : <Problem error={problem} />}
      {unreadLocal.length > 0 ? <Notice kind="error" title={t('unreadPictures', { names: unreadLocal.join(', ') })} /> : null}
      {added !== null && (added.added.length > 0 || added.unread.length > 0) ? (
        <div className="card" data-testid="station-added">
          <h2>{t('lastAdded')}</h2>
          <ul className="plain added-list">
            {added.added.map((a, i) => (
              <li key={i} data-outcome={a.outcome}>
                <span className={`badge badge-${a.outcome === 'added' ? 'accepted' : a.outcome === 'duplicate' ? 'superseded' : 'refused'}`}>{t(`added_${a.outcome}`)}</span> <span className="file-name">{a.name}</span>{' '}
                <span className="muted">
                  {a.kind === 'recovery-request' ? t('kindRequest') : a.kind === 'recovery-export' ? (a.shareIndex === undefined ? t('kindExport') : t('kindExportN', { i: a.shareIndex })) : t('kindOther')}
                </span>
                {a.problem === undefined ? null : (
                  <>
                    {' '}
                    <Reason error={a.problem} />
                  </>
                )}
              </li>
            ))}
            {added.unread.map((u, i) => (
              <li key={`u${String(i)}`} data-outcome="unread">
                <span className="badge badge-refused">{t('unreadable')}</span> <span className="file-name">{u.names.slice(0, 3).join(', ')}</span> <Reason error={u.problem} />
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {sessions.length === 0 ? (
        <Empty title={t('stationEmptyTitle')}>
          <p>{t('stationEmptyBody')}</p>
        </Empty>
      ) : (
        sessions.map((s) => (
          <SessionCard
            key={s.sessionId}
            session={s}
            result={submitted[s.sessionId] ?? null}
            onSessions={setSessions}
            onSubmitting={setSubmitting}
            onSubmitted={(r) => {
              setSubmitted((m) => ({ ...m, [s.sessionId]: r }));
              void load();
            }}
          />
        ))
      )}
    </Screen>
  );
}

/** The station's link to the agent: the one indicator (ui/AgentLink.tsx) and the way to its settings. */
function StationAgentLink() {
  const { t } = useI18n();
  const app = useApp();
  const { view } = useAgentLink();
  return (
    <section className="card agent-link" data-testid="agent-link" data-link={view} aria-label={t('agentLink_title')}>
      <h2 className="h2-like">{t('agentLink_title')}</h2>
      <AgentLinkIndicator
        onSettings={() => {
          app.go('settings');
        }}
      />
      {view === 'authenticated' ? null : <p className="help help-block">{t('agentLink_stationNeeds')}</p>}
    </section>
  );
}

function SessionCard({ session: s, result, onSessions, onSubmitting, onSubmitted }: { session: Session; result: Submitted | null; onSessions: (s: Session[]) => void; onSubmitting: (b: boolean) => void; onSubmitted: (r: Submitted) => void }) {
  const { t, date } = useI18n();
  const id = useId();
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [drill, setDrill] = useState(true);
  const [opId, setOpId] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  const progress = useProgress(opId);
  const pending = s.arrived.filter((a) => a.submitted === 'pending').length;
  const finished = s.agent !== null && ['completed', 'failed', 'expired', 'cancelled'].includes(s.agent.state);
  const arrivedIdx = new Set(s.arrived.filter((a) => a.submitted !== 'refused').map((a) => a.shareIndex));
  const indexes = [...new Set([...s.expected, ...s.arrived.map((a) => a.shareIndex), ...s.missing])].sort((a, b) => a - b);

  const refresh = async (): Promise<void> => {
    setWorking(true);
    const r = await custos().station.refresh({ sessionId: s.sessionId });
    setWorking(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    const l = await custos().station.list();
    if (l.ok) onSessions(l.value.sessions);
  };
  const submit = async (complete: boolean): Promise<void> => {
    const op = newOpId('submit');
    setOpId(op);
    setWorking(true);
    onSubmitting(true);
    const r = await custos().station.submit({ sessionId: s.sessionId, complete, drill: complete && drill, opId: op });
    setWorking(false);
    onSubmitting(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    onSubmitted(r.value);
  };
  const remove = async (hash?: string): Promise<void> => {
    const r = await custos().station.remove({ sessionId: s.sessionId, ...(hash === undefined ? {} : { hash }) });
    if (r.ok) onSessions(r.value.sessions);
    else setProblem(r.error);
  };

  return (
    <article className="card session" data-testid="station-session" data-session={s.sessionId} aria-labelledby={`${id}-h`}>
      <div className="details-head">
        <h2 id={`${id}-h`}>{s.incidentId === undefined
            ? t('sessionNoRequest', { id: s.sessionId.slice(0, 8) })
            : s.incidentTitle === undefined
              ? t('sessionTitle', { incident: s.incidentId })
              : t('sessionTitleNamed', { incident: s.incidentId, title: s.incidentTitle })}</h2>
        <button type="button" className="btn btn-quiet btn-small" onClick={() => void remove()}>
          {t('removeSession')}
        </button>
      </div>
      <p className="muted">
        {s.keyId} · {s.nodeId} · <Hex value={s.setId} chars={8} />
        {s.mode === undefined ? null : <> · {s.mode === 'mixed' ? t('modeMixedShort') : t('modeExternalShort')}</>}
        {s.threshold === undefined ? null : <> · {t('thresholdOf', { k: s.threshold, n: s.total ?? 0 })}</>}
        {s.notAfter === undefined ? null : <> · {t('expiresAt', { date: date(s.notAfter) })}</>}
      </p>
      {s.request === null ? <Notice kind="info" title={t('noRequestYet')} /> : s.request.verified ? null : <p className="help">{t('requestNotVerified')}</p>}
      <div className="chips" aria-label={t('sharesOfSession')} data-testid="session-chips">
        {indexes.map((i) => {
          const got = arrivedIdx.has(i);
          const server = s.agent?.server.includes(i) ?? false;
          return (
            <span key={i} className={got ? 'chip chip-ok' : server ? 'chip chip-server' : 'chip chip-missing'} data-index={i} data-arrived={got ? 'yes' : 'no'}>
              #{i} {got ? t('arrived') : server ? t('serverHeld') : t('missing')}
            </span>
          );
        })}
      </div>
      <p data-testid="session-summary">
        {s.missing.length === 0 ? t('noneMissing') : t('missingList', { list: s.missing.map((i) => `#${String(i)}`).join(', ') })}
      </p>
      {s.arrived.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('shareIndexShort')}</th>
                <th scope="col">{t('from')}</th>
                <th scope="col">{t('signer')}</th>
                <th scope="col">{t('made')}</th>
                <th scope="col">{t('submittedCol')}</th>
                <th scope="col">
                  <span className="sr-only">{t('actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {s.arrived.map((a) => (
                <tr key={a.hash} data-submitted={a.submitted}>
                  <td className="num">{a.shareIndex}</td>
                  <td className="file-name">{a.name}</td>
                  <td>
                    <Hex value={a.signer} chars={10} />
                  </td>
                  <td>
                    <DateText seconds={a.createdAt} />
                  </td>
                  <td>
                    <span className={`badge badge-${a.submitted === 'pending' ? 'received' : a.submitted}`}>{t(`submitted_${a.submitted}`)}</span>
                    {a.problem === undefined ? null : (
                      <>
                        {' '}
                        <Reason error={a.problem} />
                      </>
                    )}
                  </td>
                  <td>
                    <button type="button" className="btn btn-quiet btn-small" onClick={() => void remove(a.hash)}>
                      {t('remove')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {s.agent === null ? null : (
        <p className="muted" data-testid="agent-view">
          {t('agentView', { state: t(`agentState_${s.agent.state}`), received: s.agent.received.map((i) => `#${String(i)}`).join(', ') || '—', missing: s.agent.missing.map((i) => `#${String(i)}`).join(', ') || '—', at: date(s.agent.fetchedAt) })}
        </p>
      )}
      {working && opId !== null ? <ProgressBar done={progress?.done ?? 0} total={progress?.total ?? 0} label={t('submitting')} /> : null}
      <div className="row">
        <button type="button" className="btn" disabled={working} onClick={() => void refresh()}>
          {t('askAgent')}
        </button>
        <button type="button" className="btn btn-primary" disabled={working || finished || pending === 0} onClick={() => void submit(false)}>
          {t('submitPending', { n: pending })}
        </button>
        <span className="check check-inline">
          <input id={`${id}-drill`} type="checkbox" checked={drill} onChange={(e) => { setDrill(e.target.checked); }} />
          <label htmlFor={`${id}-drill`}>{t('drillOnly')}</label>
        </span>
        <button type="button" className="btn btn-danger" disabled={working || finished} onClick={() => void submit(true)}>
          {drill ? t('completeDrill') : t('completeRecovery')}
        </button>
      </div>
      {problem === null ? null : <Problem error={problem} />}
      {result === null ? null : (
        <div data-testid="submit-result">
          <Notice kind={result.refused.length > 0 ? 'warning' : 'success'} title={t('submitResult', { a: result.accepted.length, r: result.refused.length, m: result.missing.length })}>
            {result.refused.length === 0 ? null : (
              <ul className="plain">
                {result.refused.map((x) => (
                  <li key={x.shareIndex}>
                    #{x.shareIndex}: <Reason error={x.problem} />
                  </li>
                ))}
              </ul>
            )}
          </Notice>
          {result.completion === null ? null : (
            <Notice kind={result.completion.success ? 'success' : 'error'} title={result.completion.success ? (result.completion.written ? t('completedWritten') : t('completedDrill')) : t('completionFailed')} testId="completion">
              {result.completion.failure === undefined ? null : <Reason error={result.completion.failure} />}
              {result.completion.selfCheck.length === 0 ? null : (
                <details className="detail" open={result.completion.selfCheck.some((c) => !c.ok)}>
                  <summary>{t('selfCheck', { ok: result.completion.selfCheck.filter((c) => c.ok).length, n: result.completion.selfCheck.length })}</summary>
                  <ul className="plain" lang="en">
                    {result.completion.selfCheck.map((c) => (
                      <li key={c.name}>
                        {c.ok ? '✓' : '✗'} {c.name} <span className="muted">{c.detail}</span>
                      </li>
                    ))}
                  </ul>
                </details>
              )}
              {result.completion.groupKey === undefined ? null : (
                <div className="group-key" data-testid="group-key">
                  <p className="group-key-title">{t('groupKeyTitle')}</p>
                  <Facts
                    rows={[
                      [t('groupKeyCompressed'), <code key="c" className="group-key-value">{result.completion.groupKey.compressed}</code>],
                      ...(result.completion.groupKey.address === undefined ? [] : [[t('groupKeyAddress'), <code key="a" className="group-key-value">{result.completion.groupKey.address}</code>] as const]),
                      ...(result.completion.groupKey.base58 === undefined ? [] : [[t('groupKeyBase58'), <code key="b" className="group-key-value">{result.completion.groupKey.base58}</code>] as const]),
                    ]}
                  />
                  <p className="help">{t('groupKeyCompare')}</p>
                </div>
              )}
              <p className="muted">
                {t('keydataHash')} <Hex value={result.completion.keydataSha256} chars={64} />
              </p>
            </Notice>
          )}
        </div>
      )}
    </article>
  );
}
