/**
 * Audit: the vault's own append-only, hash-chained log of everything done to it, newest first, one
 * page at a time, searched and filtered by event in the main process (`audit:list`); its
 * verification verdict; exported (the log as JSON lines and its head) for auditors.
 */
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { AUDIT_EVENTS, type AuditEvent } from '../../../shared/audit/chain';
import type { IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { auditAbout } from '../lib/details';
import { Busy, Hex, Notice, Problem, Screen } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { FilterBar, Pager, SearchBox, useRowKeys } from '../ui/table';

type Page = ResponseOf<'audit:list'>;
type State = 'loading' | 'intact' | 'broken' | 'empty';
const PAGE = 100;

export function Audit() {
  const i18n = useI18n();
  const { t, num, date } = i18n;
  const id = useId();
  const [page, setPage] = useState<Page | null>(null);
  const [query, setQuery] = useState('');
  const [event, setEvent] = useState<AuditEvent | ''>('');
  const [offset, setOffset] = useState(0);
  /** Where the page on screen starts (the one asked for may still be on its way). */
  const [shownOffset, setShownOffset] = useState(0);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifiedAt, setVerifiedAt] = useState<number | null>(null);
  const [saved, setSaved] = useState<string[] | null>(null);
  const latest = useRef(0);

  const load = useCallback(async (q: string, ev: AuditEvent | '', at: number): Promise<void> => {
    const n = ++latest.current;
    const r = await custos().audit.list({ offset: at, limit: PAGE, newestFirst: true, query: q.trim(), ...(ev === '' ? {} : { event: ev }) });
    if (n !== latest.current) return;
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setPage(r.value);
    setShownOffset(at);
  }, []);
  useEffect(() => {
    void load(query, event, offset);
  }, [query, event, offset, load]);
  const rows = useRowKeys('tr[tabindex]', (delta) => {
    if (page === null) return null;
    const next = shownOffset + delta * PAGE;
    if (next < 0 || next >= page.matched) return null;
    setOffset(next);
    return next;
  });
  useLayoutEffect(() => {
    if (page !== null) rows.afterRender(shownOffset);
  });

  const verify = async (): Promise<void> => {
    setVerifying(true);
    const r = await custos().audit.verify();
    setVerifying(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setVerifiedAt(Math.floor(Date.now() / 1000));
    await load(query, event, offset);
  };
  const exportLog = async (): Promise<void> => {
    const r = await custos().audit.export();
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    const s = await custos().files.saveAll({ files: [r.value.file, r.value.headFile] });
    if (!s.ok) setProblem(s.error);
    else if (s.value.saved) setSaved(s.value.names);
  };

  const verdict = page?.verdict;
  let state: State = 'loading';
  if (page !== null) state = page.total === 0 ? 'empty' : verdict?.ok === true ? 'intact' : 'broken';

  return (
    <Screen
      name="audit"
      state={state}
      title={t('auditTitle')}
      lead={t('auditLead')}
      actions={
        <>
          <button type="button" className="btn" disabled={verifying} onClick={() => void verify()}>
            {t('verifyLog')}
          </button>
          <button type="button" className="btn btn-primary" disabled={page === null || page.total === 0} onClick={() => void exportLog()}>
            {t('exportLog')}
          </button>
        </>
      }
    >
      {problem === null ? null : <Problem error={problem} />}
      {verifying ? <Busy label={t('verifying')} /> : null}
      {page !== null && verdict !== undefined ? (
        verdict.ok ? (
          <Notice kind="success" title={t('chainIntact', { n: verdict.entries })} testId="audit-verdict">
            <p>{t('chainIntactBody')}</p>
            {page.head === null ? null : (
              <p>
                {t('chainHead', { seq: page.head.seq })} <Hex value={page.head.hash} chars={64} />
              </p>
            )}
            {verifiedAt === null ? null : <p className="muted">{t('verifiedAt', { date: date(verifiedAt) })}</p>}
          </Notice>
        ) : (
          <Notice kind="error" title={t('chainBroken')} testId="audit-verdict">
            {verdict.firstBad === undefined ? null : <p>{t('chainBrokenAt', { seq: verdict.firstBad.seq, reason: t(`chain_${verdict.firstBad.reason}`) })}</p>}
            <p>{t('chainBrokenBody')}</p>
          </Notice>
        )
      ) : null}
      {saved === null ? null : <Notice kind="success" title={t('auditSaved', { names: saved.join(', ') })} testId="audit-saved" />}
      {page === null ? <Busy label={t('loading')} /> : null}
      {page !== null && page.total > 0 ? (
        <>
          <FilterBar label={t('auditPage_filters')}>
            <SearchBox id={`${id}-q`} label={t('auditPage_search')} placeholder={t('auditPage_searchHint')} value={query} onSearch={(q) => { setQuery(q); setOffset(0); }} />
            <div className="field field-inline">
              <label htmlFor={`${id}-event`}>{t('event')}</label>
              <select id={`${id}-event`} value={event} onChange={(e) => { setEvent(e.target.value as AuditEvent | ''); setOffset(0); }}>
                <option value="">{t('any')}</option>
                {AUDIT_EVENTS.map((ev) => (
                  <option key={ev} value={ev}>
                    {t(`event_${ev}`)}
                  </option>
                ))}
              </select>
            </div>
            <button type="button" className="btn btn-quiet" disabled={query === '' && event === ''} onClick={() => { setQuery(''); setEvent(''); setOffset(0); }}>
              {t('clearFilters')}
            </button>
          </FilterBar>
          <p className="muted" aria-live="polite" data-testid="audit-count">
            {t('auditPage_shown', { n: page.matched, total: page.total })}
          </p>
        </>
      ) : null}
      {page !== null && page.total > 0 && page.matched === 0 ? (
        <p className="empty-inline" data-testid="audit-none">
          {t('auditPage_none')}
        </p>
      ) : null}
      {page !== null && page.entries.length > 0 ? (
        <div className="table-wrap table-scroll">
          <table className="table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('event')}</th>
                <th scope="col">{t('result')}</th>
                <th scope="col">{t('what')}</th>
                <th scope="col">{t('entryHash')}</th>
              </tr>
            </thead>
            <tbody ref={rows.body} onKeyDown={rows.onKeyDown}>
              {page.entries.map((e, i) =>
                'entry' in e ? (
                  <tr key={e.entry.seq} data-event={e.entry.fields.event} tabIndex={i === 0 ? 0 : -1}>
                    <td className="num">{num(e.entry.seq)}</td>
                    <td className="nowrap">{date(e.entry.at)}</td>
                    <td>{t(`event_${e.entry.fields.event}`)}</td>
                    <td>
                      <span className={`badge badge-${e.entry.fields.result === 'ok' ? 'accepted' : 'refused'}`}>{t(`result_${e.entry.fields.result}`)}</span>
                    </td>
                    <td className="audit-what">
                      {auditAbout(i18n, e.entry.fields).map((part, j) => (
                        <span key={j} {...(part.english ? { lang: 'en' } : {})}>
                          {j === 0 ? '' : ' · '}
                          {part.text}
                        </span>
                      ))}
                    </td>
                    <td>
                      <Hex value={e.entry.hash} chars={10} />
                    </td>
                  </tr>
                ) : (
                  <tr key={`d${String(e.position)}`} className="row-bad" tabIndex={i === 0 ? 0 : -1}>
                    <td className="num">?</td>
                    <td colSpan={5}>{t('damagedEntry', { n: e.position })}</td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      ) : null}
      {page === null ? null : <Pager offset={shownOffset} limit={PAGE} shown={page.entries.length} matched={page.matched} onOffset={setOffset} testId="audit-pager" />}
    </Screen>
  );
}
