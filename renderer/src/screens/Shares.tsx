/**
 * The vault's shares, one page at a time: the main process searches, filters and sorts them
 * (`shares:page`, issue 10: the window never holds the whole vault), the window shows the page with
 * a pager, sortable columns and keyboard moves between rows (ui/table.tsx). Search words match the
 * key, node, set, envelope id and incident; filters by key, node, set, index, status and history
 * event. A details panel; "Verify all" decrypts every envelope again and checks each share against
 * its commitment.
 */
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { SHARE_EVENTS, type IpcError, type RequestOf, type ResponseOf, type ShareEvent, type ShareSort, type ShareStatus } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { historyDetail } from '../lib/details';
import { newOpId } from '../lib/ops';
import { DateText, Empty, Facts, Hex, Notice, Problem, ProgressBar, Reason, Screen, useProgress } from '../ui/core';
import { BackupReminder } from '../ui/VaultBackupCard';
import { useI18n } from '../ui/i18n-context';
import { FilterBar, Pager, SearchBox, SortTh, useRowKeys, type SortDir } from '../ui/table';

type Page = ResponseOf<'shares:page'>;
type Details = ResponseOf<'shares:details'>;
type Verify = ResponseOf<'shares:verifyAll'>;
type State = 'loading' | 'empty' | 'list' | 'verifying' | 'verified';

export const STATUSES: readonly ShareStatus[] = ['received', 'confirmed', 'exported', 'superseded', 'deleted'];
/** Rows per page: enough to scroll, few enough to render at once on any machine. */
export const PAGE = 100;
/** History events main records for a share (their details are English). */
const HISTORY = ['imported', 'receipt-accepted', 'receipt-rejected', 'exported', 'deleted', 'rollback', 'superseded'] as const;

interface Filter {
  query: string;
  keyId: string;
  nodeId: string;
  setId: string;
  shareIndex: string;
  status: ShareStatus | '';
  event: ShareEvent | '';
}
const NO_FILTER: Filter = { query: '', keyId: '', nodeId: '', setId: '', shareIndex: '', status: '', event: '' };
const FIRST_SORT: { by: ShareSort; dir: SortDir } = { by: 'received', dir: 'asc' };

function request(f: Filter, sort: { by: ShareSort; dir: SortDir }, offset: number): RequestOf<'shares:page'> {
  const index = Number(f.shareIndex);
  return {
    offset,
    limit: PAGE,
    query: f.query.trim(),
    sort,
    ...(f.keyId === '' ? {} : { keyId: f.keyId }),
    ...(f.nodeId === '' ? {} : { nodeId: f.nodeId }),
    ...(f.setId === '' ? {} : { setId: f.setId }),
    ...(f.shareIndex !== '' && Number.isInteger(index) && index >= 1 && index <= 255 ? { shareIndex: index } : {}),
    ...(f.status === '' ? {} : { status: [f.status] }),
    ...(f.event === '' ? {} : { event: f.event }),
  };
}

export function Shares() {
  const { t } = useI18n();
  const app = useApp();
  const id = useId();
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [sort, setSort] = useState(FIRST_SORT);
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Page | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [details, setDetails] = useState<Details | null>(null);
  const [opId, setOpId] = useState<string | null>(null);
  const [verify, setVerify] = useState<Verify | null>(null);
  const [verifying, setVerifying] = useState(false);
  const progress = useProgress(opId);
  // Answers can arrive out of order while someone types: only the latest request's page is shown.
  const latest = useRef(0);

  const load = useCallback(async (f: Filter, s: { by: ShareSort; dir: SortDir }, at: number): Promise<void> => {
    const n = ++latest.current;
    const r = await custos().shares.page(request(f, s, at));
    if (n !== latest.current) return;
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    setPage(r.value);
  }, []);

  useEffect(() => {
    void load(filter, sort, offset);
  }, [filter, sort, offset, load]);

  const rows = useRowKeys('.row-link', (delta) => {
    if (page === null) return null;
    const next = page.offset + delta * PAGE;
    if (next < 0 || next >= page.matched) return null;
    setOffset(next);
    return next;
  });
  useLayoutEffect(() => {
    if (page !== null) rows.afterRender(page.offset);
  });

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
    await load(filter, sort, offset);
    if (selected !== null) await open(selected);
    await app.refresh();
  };

  const set = <K extends keyof Filter>(k: K, v: Filter[K]): void => {
    setFilter((f) => ({ ...f, [k]: v }));
    setOffset(0);
  };
  const filtered = Object.entries(filter).some(([, v]) => v !== '');
  const facets = page?.facets;

  let state: State = 'loading';
  if (page !== null) state = page.total === 0 ? 'empty' : 'list';
  if (verifying) state = 'verifying';
  else if (verify !== null) state = 'verified';

  return (
    <Screen
      name="shares"
      state={state}
      title={t('sharesTitle')}
      lead={t('sharesLead')}
      actions={
        <button type="button" className="btn btn-primary" disabled={verifying || page === null || page.total === 0} onClick={() => void verifyAll()}>
          {t('verifyAll')}
        </button>
      }
    >
      <BackupReminder />
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

      {page !== null && page.total === 0 ? (
        <Empty title={t('sharesEmptyTitle')}>
          <p>{t('sharesEmptyBody')}</p>
          <button type="button" className="btn" onClick={() => { app.go('inbox'); }}>
            {t('goToInbox')}
          </button>
        </Empty>
      ) : null}

      {page !== null && facets !== undefined && page.total > 0 ? (
        <>
          <FilterBar label={t('filterShares')}>
            <SearchBox id={`${id}-q`} label={t('sharesPage_search')} placeholder={t('sharesPage_searchHint')} value={filter.query} onSearch={(q) => { set('query', q); }} />
            {facets.more.keyIds ? null : <FacetSelect id={`${id}-key`} label={t('key')} any={t('any')} value={filter.keyId} values={facets.keyIds} onChange={(v) => { set('keyId', v); }} />}
            {facets.more.nodeIds ? null : <FacetSelect id={`${id}-node`} label={t('node')} any={t('any')} value={filter.nodeId} values={facets.nodeIds} onChange={(v) => { set('nodeId', v); }} />}
            {facets.more.setIds ? null : (
              <FacetSelect
                id={`${id}-set`}
                label={t('backupSet')}
                any={t('any')}
                value={filter.setId}
                values={facets.setIds}
                show={(k) => `${k.slice(0, 12)}…`}
                onChange={(v) => { set('setId', v); }}
              />
            )}
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
            <div className="field field-inline">
              <label htmlFor={`${id}-event`}>{t('sharesPage_event')}</label>
              <select id={`${id}-event`} value={filter.event} onChange={(e) => { set('event', e.target.value as ShareEvent | ''); }}>
                <option value="">{t('any')}</option>
                {SHARE_EVENTS.map((ev) => (
                  <option key={ev} value={ev}>
                    {t(`history_${ev}`)}
                  </option>
                ))}
              </select>
            </div>
            <button type="button" className="btn btn-quiet" disabled={!filtered} onClick={() => { setFilter(NO_FILTER); setOffset(0); }}>
              {t('clearFilters')}
            </button>
          </FilterBar>
          <p className="muted" aria-live="polite" data-testid="shares-count">
            {t('sharesShown', { n: page.matched, total: page.total })}
          </p>
          <div className={selected === null ? 'split' : 'split split-open'}>
            <div className="split-main">
              {page.matched === 0 ? (
                <p className="empty-inline" data-testid="shares-none">
                  {t('sharesPage_none')}
                </p>
              ) : (
                <div className="table-wrap table-scroll">
                  <table className="table table-click table-shares" data-testid="shares-table" aria-rowcount={page.matched + 1}>
                    <thead>
                      <tr>
                        <SortTh by="key" label={t('key')} sort={sort} onSort={(s) => { setSort(s); setOffset(0); }} />
                        <SortTh by="node" label={t('node')} sort={sort} onSort={(s) => { setSort(s); setOffset(0); }} />
                        <SortTh by="set" label={t('backupSet')} sort={sort} onSort={(s) => { setSort(s); setOffset(0); }} />
                        <SortTh by="index" label={t('shareIndexShort')} sort={sort} onSort={(s) => { setSort(s); setOffset(0); }} className="num" />
                        <SortTh by="status" label={t('status')} sort={sort} onSort={(s) => { setSort(s); setOffset(0); }} />
                        <SortTh by="received" label={t('received')} sort={sort} onSort={(s) => { setSort(s); setOffset(0); }} />
                      </tr>
                    </thead>
                    <tbody ref={rows.body} onKeyDown={rows.onKeyDown}>
                      {page.shares.map((s, i) => (
                        <tr key={s.id} className={s.id === selected ? 'row-selected' : undefined} data-status={s.status} aria-rowindex={page.offset + i + 2}>
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
                </div>
              )}
              <Pager offset={page.offset} limit={PAGE} shown={page.shares.length} matched={page.matched} onOffset={setOffset} testId="shares-pager" />
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
      {/* Issue 12 (H14): the group key from the signed manifest, to compare before a recovery. */}
      <div className="group-key" data-testid="share-group-key">
        <p className="group-key-title">{t('shareGroupKeyTitle')}</p>
        {d.groupKey === undefined ? (
          <p className="help">{t('shareGroupKeyAbsent')}</p>
        ) : (
          <>
            <Facts
              rows={[
                [t('groupKeyCompressed'), <code key="c" className="group-key-value">{d.groupKey.compressed}</code>],
                ...(d.groupKey.address === undefined ? [] : [[t('groupKeyAddress'), <code key="a" className="group-key-value">{d.groupKey.address}</code>] as const]),
                ...(d.groupKey.base58 === undefined ? [] : [[t('groupKeyBase58'), <code key="b" className="group-key-value">{d.groupKey.base58}</code>] as const]),
              ]}
            />
            <p className="help">{t('shareGroupKeyCompare')}</p>
          </>
        )}
      </div>
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
