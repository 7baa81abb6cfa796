/**
 * Audit: the vault's own append-only, hash-chained log of everything done to it; its verification
 * verdict; exported (the log as JSON lines and its head) for auditors.
 */
import { useCallback, useEffect, useState } from 'react';
import type { IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { auditAbout } from '../lib/details';
import { Busy, Hex, Notice, Problem, Screen } from '../ui/core';
import { useI18n } from '../ui/i18n-context';

type Page = ResponseOf<'audit:list'>;
type Entry = Page['entries'][number];
type State = 'loading' | 'intact' | 'broken' | 'empty';
const PAGE = 100;

export function Audit() {
  const i18n = useI18n();
  const { t, num, date } = i18n;
  const [page, setPage] = useState<Page | null>(null);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifiedAt, setVerifiedAt] = useState<number | null>(null);
  const [saved, setSaved] = useState<string[] | null>(null);

  const load = useCallback(async (offset: number): Promise<void> => {
    const r = await custos().audit.list({ offset, limit: PAGE, newestFirst: true });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setPage(r.value);
    setEntries((e) => (offset === 0 ? r.value.entries : [...e, ...r.value.entries]));
  }, []);
  useEffect(() => {
    void load(0);
  }, [load]);

  const verify = async (): Promise<void> => {
    setVerifying(true);
    const r = await custos().audit.verify();
    setVerifying(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setVerifiedAt(Math.floor(Date.now() / 1000));
    await load(0);
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
      {entries.length > 0 ? (
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
            <tbody>
              {entries.map((e, i) =>
                'entry' in e ? (
                  <tr key={e.entry.seq} data-event={e.entry.fields.event}>
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
                  <tr key={`d${String(i)}`} className="row-bad">
                    <td className="num">?</td>
                    <td colSpan={5}>{t('damagedEntry', { n: e.position })}</td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
        </div>
      ) : null}
      {page !== null && entries.length < page.total ? (
        <button type="button" className="btn" onClick={() => void load(entries.length)}>
          {t('showMore', { n: Math.min(PAGE, page.total - entries.length), total: page.total })}
        </button>
      ) : null}
    </Screen>
  );
}
