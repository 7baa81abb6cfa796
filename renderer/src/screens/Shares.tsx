/**
 * The vault's shares: filter by key, node, backup set, share index and status; a details panel;
 * "Verify all" decrypts every envelope again and checks each share against its commitment.
 */
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { IpcError, ResponseOf, ShareStatus } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { historyDetail } from '../lib/details';
import { newOpId } from '../lib/ops';
import { DateText, Empty, Facts, Hex, Notice, Problem, ProgressBar, Reason, Screen, useProgress } from '../ui/core';
import { useI18n } from '../ui/i18n-context';

type List = ResponseOf<'shares:list'>;
type Details = ResponseOf<'shares:details'>;
type Verify = ResponseOf<'shares:verifyAll'>;
type State = 'loading' | 'empty' | 'list' | 'verifying' | 'verified';

export const STATUSES: readonly ShareStatus[] = ['received', 'confirmed', 'exported', 'superseded', 'deleted'];
const PAGE = 200;
/** History events main records for a share (their details are English). */
const HISTORY = ['imported', 'receipt-accepted', 'receipt-rejected', 'exported', 'deleted', 'rollback', 'superseded'] as const;

interface Filter {
  keyId: string;
  nodeId: string;
  setId: string;
  shareIndex: string;
  status: ShareStatus | '';
}
const NO_FILTER: Filter = { keyId: '', nodeId: '', setId: '', shareIndex: '', status: '' };

export function Shares() {
  const { t } = useI18n();
  const app = useApp();
  const id = useId();
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [list, setList] = useState<List | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [details, setDetails] = useState<Details | null>(null);
  const [opId, setOpId] = useState<string | null>(null);
  const [verify, setVerify] = useState<Verify | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [shown, setShown] = useState(PAGE);
  const progress = useProgress(opId);

  const load = useCallback(async (f: Filter): Promise<void> => {
    const index = Number(f.shareIndex);
    const r = await custos().shares.list({
      filter: {
        ...(f.keyId === '' ? {} : { keyId: f.keyId }),
        ...(f.nodeId === '' ? {} : { nodeId: f.nodeId }),
        ...(f.setId === '' ? {} : { setId: f.setId }),
        ...(f.shareIndex !== '' && Number.isInteger(index) && index >= 1 && index <= 255 ? { shareIndex: index } : {}),
        ...(f.status === '' ? {} : { status: f.status }),
      },
    });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    setList(r.value);
    setShown(PAGE);
  }, []);

  useEffect(() => {
    void load(filter);
  }, [filter, load]);

  const open = async (shareId: string): Promise<void> => {
    setSelected(shareId);
    const r = await custos().shares.details({ id: shareId });
    if (r.ok) setDetails(r.value);
    else setProblem(r.error);
  };

  const verifyAll = async (): Promise<void> => {
    const op = newOpId('verify');
    setOpId(op);
    setVerifying(true);
    setVerify(null);
    const r = await custos().shares.verifyAll({ opId: op });
    setVerifying(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setVerify(r.value);
  };

  const afterChange = async (): Promise<void> => {
    await load(filter);
    if (selected !== null) await open(selected);
    await app.refresh();
  };

  const set = <K extends keyof Filter>(k: K, v: Filter[K]): void => {
    setFilter((f) => ({ ...f, [k]: v }));
  };
  const filtered = filter.keyId !== '' || filter.nodeId !== '' || filter.setId !== '' || filter.shareIndex !== '' || filter.status !== '';

  let state: State = 'loading';
  if (list !== null) state = list.total === 0 ? 'empty' : 'list';
  if (verifying) state = 'verifying';
  else if (verify !== null) state = 'verified';

  return (
    <Screen
      name="shares"
      state={state}
      title={t('sharesTitle')}
      lead={t('sharesLead')}
      actions={
        <button type="button" className="btn btn-primary" disabled={verifying || list === null || list.total === 0} onClick={() => void verifyAll()}>
          {t('verifyAll')}
        </button>
      }
    >
      {problem === null ? null : <Problem error={problem} />}
      {verifying ? (
        <div className="card">
          <ProgressBar done={progress?.done ?? 0} total={progress?.total ?? 0} label={t('verifying')} testId="verify-progress" />
        </div>
      ) : null}
      {verify !== null ? (
        <div data-testid="verify-results">
          {verify.failed === 0 ? (
            <Notice kind="success" title={t('verifiedAll', { n: verify.ok })}>
              <p>{t('verifiedAllBody')}</p>
            </Notice>
          ) : (
            <Notice kind="error" title={t('verifiedSome', { ok: verify.ok, bad: verify.failed })}>
              <ul className="plain">
                {verify.results
                  .filter((r) => !r.ok)
                  .map((r) => (
                    <li key={r.id}>
                      <strong>
                        {r.share.keyId} · {r.share.nodeId} · #{r.share.shareIndex}
                      </strong>{' '}
                      {r.problem === undefined ? null : <Reason error={r.problem} />}
                    </li>
                  ))}
              </ul>
            </Notice>
          )}
        </div>
      ) : null}

      {list !== null && list.total === 0 ? (
        <Empty title={t('sharesEmptyTitle')}>
          <p>{t('sharesEmptyBody')}</p>
          <button type="button" className="btn" onClick={() => { app.go('inbox'); }}>
            {t('goToInbox')}
          </button>
        </Empty>
      ) : null}

      {list !== null && list.total > 0 ? (
        <>
          <form className="filters" role="search" aria-label={t('filterShares')} onSubmit={(e) => { e.preventDefault(); }}>
            <FacetSelect id={`${id}-key`} label={t('key')} any={t('any')} value={filter.keyId} values={list.facets.keyIds} onChange={(v) => { set('keyId', v); }} />
            <FacetSelect id={`${id}-node`} label={t('node')} any={t('any')} value={filter.nodeId} values={list.facets.nodeIds} onChange={(v) => { set('nodeId', v); }} />
            <FacetSelect
              id={`${id}-set`}
              label={t('backupSet')}
              any={t('any')}
              value={filter.setId}
              values={list.facets.setIds}
              show={(k) => `${k.slice(0, 12)}…`}
              onChange={(v) => { set('setId', v); }}
            />
            <div className="field field-inline field-narrow">
              <label htmlFor={`${id}-index`}>{t('shareIndex')}</label>
              <input id={`${id}-index`} type="number" min={1} max={255} value={filter.shareIndex} onChange={(e) => { set('shareIndex', e.target.value); }} />
            </div>
            <div className="field field-inline">
              <label htmlFor={`${id}-status`}>{t('status')}</label>
              <select id={`${id}-status`} value={filter.status} onChange={(e) => { set('status', e.target.value as ShareStatus | ''); }}>
                <option value="">{t('any')}</option>
                {STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {t(`status_${s}`)}
                  </option>
                ))}
              </select>
            </div>
            <button type="button" className="btn btn-quiet" disabled={!filtered} onClick={() => { setFilter(NO_FILTER); }}>
              {t('clearFilters')}
            </button>
          </form>
          <p className="muted" aria-live="polite" data-testid="shares-count">
            {t('sharesShown', { n: list.shares.length, total: list.total })}
          </p>
          <div className={selected === null ? 'split' : 'split split-open'}>
            <div className="table-wrap table-scroll">
              <table className="table table-click" data-testid="shares-table">
                <thead>
                  <tr>
                    <th scope="col">{t('key')}</th>
                    <th scope="col">{t('node')}</th>
                    <th scope="col">{t('backupSet')}</th>
                    <th scope="col">{t('shareIndexShort')}</th>
                    <th scope="col">{t('status')}</th>
                    <th scope="col">{t('received')}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.shares.slice(0, shown).map((s) => (
                    <tr key={s.id} className={s.id === selected ? 'row-selected' : undefined} data-status={s.status}>
                      <td className="id-cell">
                        <button type="button" className="link row-link" onClick={() => void open(s.id)} aria-label={t('openShare', { key: s.keyId, node: s.nodeId, i: s.shareIndex })}>
                          {s.keyId}
                        </button>
                      </td>
                      <td className="id-cell">{s.nodeId}</td>
                      <td>
                        <Hex value={s.setId} chars={8} />
                      </td>
                      <td className="num">{s.shareIndex}</td>
                      <td>
                        <span className={`badge badge-${s.status}`}>{t(`status_${s.status}`)}</span>
                      </td>
                      <td className="nowrap">
                        <DateText seconds={s.receivedAt} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {list.shares.length > shown ? (
                <button type="button" className="btn" onClick={() => { setShown((n) => n + PAGE); }}>
                  {t('showMore', { n: Math.min(PAGE, list.shares.length - shown), total: list.shares.length })}
                </button>
              ) : null}
            </div>
            {selected !== null && details !== null ? (
              <ShareDetails
                details={details}
                onClose={() => {
                  setSelected(null);
                  setDetails(null);
                }}
                onChanged={() => void afterChange()}
              />
            ) : null}
          </div>
        </>
      ) : null}
    </Screen>
  );
}

function ShareDetails({ details: d, onClose, onChanged }: { details: Details; onClose: () => void; onChanged: () => void }) {
  const { t, num, date } = useI18n();
  const id = useId();
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    panel.current?.scrollIntoView({ block: 'nearest' });
  }, [d.id]);
  const softDelete = async (): Promise<void> => {
    const r = await custos().deletion.soft({ id: d.id, ...(reason.trim() === '' ? {} : { reason: reason.trim() }) });
    if (!r.ok) setProblem(r.error);
    else {
      setConfirming(false);
      onChanged();
    }
  };
  const rollback = async (): Promise<void> => {
    const r = await custos().deletion.rollback({ id: d.id });
    if (!r.ok) setProblem(r.error);
    else onChanged();
  };
  return (
    <aside className="card details" ref={panel} aria-labelledby={`${id}-h`} data-testid="share-details">
      <div className="details-head">
        <h2 id={`${id}-h`}>
          {d.keyId} · {d.nodeId} · #{d.shareIndex}
        </h2>
        <button type="button" className="btn btn-quiet btn-small" onClick={onClose}>
          {t('close')}
        </button>
      </div>
      <Facts
        rows={[
          [t('status'), <span key="s" className={`badge badge-${d.status}`}>{t(`status_${d.status}`)}</span>],
          [t('backupSet'), <Hex key="set" value={d.setId} chars={32} />],
          [t('epoch'), num(d.epoch)],
          [t('threshold'), t('thresholdOf', { k: d.threshold, n: d.total })],
          [t('curve'), d.curve],
          [t('received'), <DateText key="r" seconds={d.receivedAt} />],
          [t('expires'), d.notAfter === undefined ? t('never') : date(d.notAfter)],
          [t('envelopeId'), <Hex key="id" value={d.id} chars={24} />],
          [t('manifestHash'), <Hex key="m" value={d.manifestHash} chars={24} />],
          [t('signedBy'), <Hex key="a" value={d.agentKey} chars={24} />],
        ]}
      />
      <h3>{t('receipts')}</h3>
      {d.receipts.length === 0 ? (
        <p className="muted">{t('noReceiptYet')}</p>
      ) : (
        <ul className="plain">
          {d.receipts.map((r) => (
            <li key={r.hash}>
              <span className={`badge badge-${r.status}`}>{t(`receipt_${r.status}`)}</span> {date(r.signedAt)}
              {r.reason === undefined ? null : <> · {t(`reason_${r.reason}`)}</>}
            </li>
          ))}
        </ul>
      )}
      {d.exportsMade.length > 0 ? (
        <>
          <h3>{t('exportsMade')}</h3>
          <ul className="plain">
            {d.exportsMade.map((e) => (
              <li key={e.exportHash}>
                {e.incidentId} · {date(e.exportedAt)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <h3>{t('history')}</h3>
      <ol className="history">
        {d.history.map((h, i) => (
          <li key={i}>
            <span className="muted">{date(h.at)}</span> {HISTORY.includes(h.event as (typeof HISTORY)[number]) ? t(`history_${h.event as (typeof HISTORY)[number]}`) : h.event}
            <HistoryDetail event={h.event} detail={h.detail} />
          </li>
        ))}
      </ol>
      {d.deletion !== undefined ? (
        <Notice kind="warning" title={t('deletedCooling', { date: date(d.deletion.purgeAfter) })}>
          <button type="button" className="btn btn-small" onClick={() => void rollback()}>
            {t('rollbackDelete')}
          </button>
        </Notice>
      ) : d.status !== 'deleted' ? (
        confirming ? (
          <div className="confirm-box">
            <div className="field">
              <label htmlFor={`${id}-reason`}>{t('deleteReason')}</label>
              <input id={`${id}-reason`} value={reason} onChange={(e) => { setReason(e.target.value); }} maxLength={500} />
            </div>
            <p className="help">{t('deleteHelp')}</p>
            <div className="row">
              <button type="button" className="btn btn-danger" onClick={() => void softDelete()}>
                {t('deleteConfirm')}
              </button>
              <button type="button" className="btn btn-quiet" onClick={() => { setConfirming(false); }}>
                {t('cancel')}
              </button>
            </div>
          </div>
        ) : (
          <button type="button" className="btn btn-quiet btn-small" onClick={() => { setConfirming(true); }}>
            {t('deleteShare')}
          </button>
        )
      ) : null}
      {problem === null ? null : <Problem error={problem} />}
    </aside>
  );
}

/** One filter menu: a label and a select of the values present in the vault, plus "any". */
function FacetSelect(props: {
  id: string;
  label: string;
  any: string;
  value: string;
  values: readonly string[];
  show?: (value: string) => string;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field field-inline">
      <label htmlFor={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => { props.onChange(e.target.value); }}>
        <option value="">{props.any}</option>
        {props.values.map((k) => (
          <option key={k} value={k}>
            {props.show === undefined ? k : props.show(k)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A history line's facts in the reader's language (main's own English only for a shape it does not know). */
function HistoryDetail({ event, detail }: { readonly event: string; readonly detail: string | undefined }) {
  const i18n = useI18n();
  const d = historyDetail(i18n, event, detail);
  if (d === null) return null;
  return (
    <span className="muted" {...(d.english ? { lang: 'en' } : {})}>
      {' '}
      · {d.text}
    </span>
  );
}
