/**
 * Inbox: envelopes (and supersede notices) by drag and drop, the file picker, paste, a QR image or
 * the camera. A batch of thousands shows a progress bar; every envelope gets a line: accepted, or
 * refused with the reason in words. Refusals come in three classes with their own look and advice
 * (issue 12, main/services/refusal-class.ts): a possible attack (never "ask the sender again"), not
 * for you or out of date, and harmless (never offered a signed rejection).
 */
import { useMemo, useRef, useState } from 'react';
import type { IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { REFUSAL_CLASSES, type RefusalClass } from '../../../shared/ipc/schemas';
import { custos } from '../api';
import { useApp } from '../app-context';
import { importInputs, type Given } from '../lib/messages';
import { newOpId } from '../lib/ops';
import { Empty, Hex, Notice, Problem, ProgressBar, Reason, Screen, useProgress } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { InputZone } from '../ui/InputZone';

type Result = ResponseOf<'inbox:import'>;
type Filter = 'all' | 'refused' | 'accepted';
type State = 'empty' | 'importing' | 'done' | 'error';
type Row = Result['results'][number];

/** The look of each class: a possible attack is an error, not-for-you a warning, harmless plain. */
const CLASS_NOTICE = { 'possible-attack': 'error', 'not-for-you-or-outdated': 'warning', harmless: 'info' } as const;

/** The refusals of one import by class, each with its (class-wide) advice and whether a receipt is offered. */
function byClass(rows: readonly Row[]): { cls: RefusalClass; n: number; advice: NonNullable<Row['refusal']>['advice']; receipt: boolean }[] {
  return REFUSAL_CLASSES.flatMap((cls) => {
    const of = rows.filter((r) => r.refusal?.class === cls);
    const first = of[0]?.refusal;
    return first === undefined ? [] : [{ cls, n: of.length, advice: first.advice, receipt: of.some((r) => r.refusal?.offerSignedRejection === true) }];
  });
}

const PAGE = 100;
/** Files per inbox:import call (the contract takes up to MAX_ITEMS, 20,000). */
const BATCH = 10_000;

export function Inbox() {
  const { t, num, lang } = useI18n();
  const app = useApp();
  const [state, setState] = useState<State>('empty');
  const [opId, setOpId] = useState<string | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [unreadLocal, setUnreadLocal] = useState<string[]>([]);
  const [filter, setFilter] = useState<Filter>('all');
  const [shown, setShown] = useState(PAGE);
  const [count, setCount] = useState(0);
  const [part, setPart] = useState<{ i: number; n: number } | null>(null);
  const progress = useProgress(opId);
  const noAgent = app.status?.agent === null;

  // Imports run one after another (the camera may hand over a message while one is running).
  const queue = useRef<Given[]>([]);
  const running = useRef(false);
  const enqueue = (given: Given): void => {
    queue.current.push(given);
    if (running.current) return;
    running.current = true;
    void (async () => {
      for (let next = queue.current.shift(); next !== undefined; next = queue.current.shift()) await run(next);
      running.current = false;
    })();
  };

  const run = async (given: Given): Promise<void> => {
    const op = newOpId('import');
    setOpId(op);
    setState('importing');
    setProblem(null);
    setResult(null);
    setShown(PAGE);
    setFilter('all');
    const inputs = await importInputs(given);
    setUnreadLocal(inputs.unreadable);
    setCount(inputs.files.length + inputs.frames.length);
    // One call takes at most MAX_ITEMS files (20,000): a larger batch goes in parts, one result.
    const total: Result = { results: [], unread: [], accepted: 0, refused: 0, applied: 0, aborted: false };
    const parts = Math.max(1, Math.ceil(inputs.files.length / BATCH));
    for (let p = 0; p < parts && !total.aborted; p++) {
      const partOp = parts === 1 ? op : `${op}-${String(p)}`;
      setOpId(partOp);
      setPart(parts === 1 ? null : { i: p + 1, n: parts });
      const files = inputs.files.slice(p * BATCH, (p + 1) * BATCH);
      const r = await custos().inbox.import({ opId: partOp, files, frames: p === 0 ? inputs.frames : [] });
      if (!r.ok) {
        setProblem(r.error);
        if (total.results.length === 0) {
          setState('error');
          return;
        }
        break;
      }
      const offset = total.results.length;
      total.results.push(...r.value.results.map((x) => ({ ...x, index: x.index + offset })));
      total.unread.push(...r.value.unread);
      total.accepted += r.value.accepted;
      total.refused += r.value.refused;
      total.applied += r.value.applied;
      total.aborted = r.value.aborted;
    }
    setPart(null);
    setResult(total);
    setState('done');
    await app.refresh();
  };

  const rows = useMemo(() => {
    if (result === null) return [];
    if (filter === 'all') return result.results;
    if (filter === 'refused') return result.results.filter((r) => r.outcome === 'refused');
    return result.results.filter((r) => r.outcome !== 'refused');
  }, [result, filter]);

  return (
    <Screen name="inbox" state={state} title={t('inboxTitle')} lead={t('inboxLead')}>
      {noAgent ? (
        <Notice kind="warning" title={t('noAgentTitle')} testId="no-agent">
          <p>{t('noAgentBody')}</p>
          <button type="button" className="btn btn-small" onClick={() => { app.go('trust'); }}>
            {t('goToTrust')}
          </button>
        </Notice>
      ) : null}

      <InputZone purpose="envelopes" multiple hint={t('dropEnvelopes')} camera="continuous" accept={['envelope', 'supersede']} busy={state === 'importing'} onGiven={enqueue} testId="inbox-input" />

      {state === 'importing' ? (
        <div className="card" data-testid="import-progress">
          <ProgressBar
            done={progress?.done ?? 0}
            total={progress?.total ?? 0}
            label={progress === null ? t('readingFiles', { n: count }) : part === null ? t('checkingEnvelopes') : t('checkingEnvelopesPart', { i: part.i, n: part.n })}
          />
          <p className="muted" aria-live="polite">
            {t('soFar', { a: progress?.accepted ?? 0, r: progress?.refused ?? 0 })}
          </p>
          <button type="button" className="btn" disabled={opId === null} onClick={() => { if (opId !== null) void custos().inbox.cancel({ opId }); }}>
            {t('cancelImport')}
          </button>
        </div>
      ) : null}

      {problem === null ? null : <Problem error={problem} />}

      {state === 'empty' ? (
        <Empty title={t('inboxEmptyTitle')}>
          <p>{t('inboxEmptyBody')}</p>
        </Empty>
      ) : null}

      {result !== null ? (
        <div className="results" data-testid="import-results">
          <div className="summary">
            <div className="stat stat-ok" data-testid="count-accepted">
              <span className="stat-n">{num(result.accepted)}</span>
              <span className="stat-l">{t('accepted')}</span>
            </div>
            <div className={result.refused > 0 ? 'stat stat-bad' : 'stat'} data-testid="count-refused">
              <span className="stat-n">{num(result.refused)}</span>
              <span className="stat-l">{t('refused')}</span>
            </div>
            {result.applied > 0 ? (
              <div className="stat">
                <span className="stat-n">{num(result.applied)}</span>
                <span className="stat-l">{t('noticesApplied')}</span>
              </div>
            ) : null}
            {result.unread.length + unreadLocal.length > 0 ? (
              <div className="stat stat-bad">
                <span className="stat-n">{num(result.unread.reduce((n, u) => n + u.names.length, 0) + unreadLocal.length)}</span>
                <span className="stat-l">{t('unreadable')}</span>
              </div>
            ) : null}
          </div>
          {result.aborted ? <Notice kind="warning" title={t('importCancelled')} /> : null}
          {result.refused > 0 ? (
            <Notice kind={CLASS_NOTICE[byClass(result.results)[0]?.cls ?? 'not-for-you-or-outdated']} title={t('importRefusedSome', { n: result.refused })} testId="refused-notice">
              <p>{t('importRefusedHelp')}</p>
              {byClass(result.results).map((c) => (
                <div key={c.cls} className={`refusal-advice refusal-${c.cls}`} data-testid={`class-${c.cls}`}>
                  <p className="refusal-advice-title">
                    <span className={`badge badge-class-${c.cls}`}>{t(`inboxClass_${c.cls}`)}</span> {t(`inboxClassCount_${c.cls}`, { n: c.n })}
                  </p>
                  <p>{c.advice[lang]}</p>
                  <p className="muted">{c.receipt ? t('inboxClassReceipt') : t('inboxClassNoReceipt')}</p>
                </div>
              ))}
              {filter === 'refused' ? null : (
                <button type="button" className="btn btn-small" onClick={() => { setFilter('refused'); setShown(PAGE); }}>
                  {t('showRefused')}
                </button>
              )}
            </Notice>
          ) : null}
          {result.accepted > 0 ? (
            <Notice kind="success" title={t('importAcceptedNext', { n: result.accepted })}>
              <button type="button" className="btn btn-small" onClick={() => { app.go('receipts'); }}>
                {t('goToReceipts')}
              </button>
            </Notice>
          ) : null}
          {result.unread.map((u, i) => (
            <Problem key={i} error={u.problem} title={t('unreadInputs', { names: u.names.slice(0, 5).join(', ') + (u.names.length > 5 ? '…' : '') })} />
          ))}
          {unreadLocal.length > 0 ? <Notice kind="error" title={t('unreadPictures', { names: unreadLocal.join(', ') })} /> : null}

          <div className="tabs" role="group" aria-label={t('show')}>
            {(['all', 'refused', 'accepted'] as const).map((f) => (
              <button key={f} type="button" className={f === filter ? 'tab tab-current' : 'tab'} aria-pressed={f === filter} onClick={() => { setFilter(f); setShown(PAGE); }}>
                {t(`filter_${f}`)}
              </button>
            ))}
          </div>
          {rows.length === 0 ? (
            <p className="muted">{t('nothingToShow')}</p>
          ) : (
            <div className="table-wrap table-scroll">
              <table className="table" data-testid="import-table">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">{t('file')}</th>
                    <th scope="col">{t('share')}</th>
                    <th scope="col">{t('outcome')}</th>
                    <th scope="col">{t('reason')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.slice(0, shown).map((r) => (
                    <tr key={r.index} data-outcome={r.outcome} data-class={r.refusal?.class}>
                      <td className="num">{num(r.index + 1)}</td>
                      <td className="file-name">{r.name ?? '—'}</td>
                      <td>
                        {r.share === undefined ? (
                          r.kind === 'supersede' && r.supersede !== undefined ? (
                            <span>
                              {t('supersedeOf', { key: r.supersede.keyId, node: r.supersede.nodeId })}
                            </span>
                          ) : (
                            '—'
                          )
                        ) : (
                          <span className="share-ref">
                            {r.share.keyId} · {r.share.nodeId} · #{r.share.shareIndex} · <Hex value={r.share.setId} chars={8} />
                          </span>
                        )}
                      </td>
                      <td>
                        <span className={r.refusal === undefined ? `badge badge-${r.outcome}` : `badge badge-class-${r.refusal.class}`}>{t(`outcome_${r.outcome}`)}</span>
                      </td>
                      <td>
                        {r.refusal === undefined ? null : <strong className={`class-label class-${r.refusal.class}`}>{t(`inboxClass_${r.refusal.class}`)}: </strong>}
                        {r.problem === undefined ? (r.kind === 'supersede' ? t('supersedeApplied') : '') : <Reason error={r.problem} />}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {rows.length > shown ? (
            <div className="row">
              <button type="button" className="btn" onClick={() => { setShown((s) => s + PAGE * 5); }}>
                {t('showMore', { n: Math.min(PAGE * 5, rows.length - shown), total: rows.length })}
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
    </Screen>
  );
}
