/**
 * Recovery export: the agent's signed recovery request is verified and described in plain words
 * (incident, key, node, mode, approvals, expiry); after a deliberate confirmation the share is
 * exported sealed to the recovery session, as a file, as QR frames shown full-screen, and as the
 * printable recovery sheet (PDF).
 */
import { useEffect, useId, useState } from 'react';
import type { FileIn, IpcError, ResponseOf, ShareStatus } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { oneMessage, type Given } from '../lib/messages';
import { recoveryWarning } from '../lib/details';
import { newOpId } from '../lib/ops';
import { Facts, Hex, Notice, Problem, ProgressBar, Screen, useProgress } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { InputZone } from '../ui/InputZone';
import { QrPlayer } from '../ui/QrPlayer';
import { STATUSES } from './Shares';

type Summary = ResponseOf<'recovery:show'>;
type Exported = ResponseOf<'recovery:export'>;
type State = 'empty' | 'review' | 'refused' | 'exporting' | 'exported';

export function Recovery() {
  const i18n = useI18n();
  const { t, date, relative } = i18n;
  const app = useApp();
  const id = useId();
  const [request, setRequest] = useState<FileIn | null>(null);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [typed, setTyped] = useState('');
  const [checked, setChecked] = useState(false);
  const [opId, setOpId] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<Exported | null>(null);
  const [player, setPlayer] = useState(false);
  const [saved, setSaved] = useState<{ file?: string; sheet?: string }>({});
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  const progress = useProgress(opId);

  useEffect(() => {
    const timer = setInterval(() => {
      setNow(Math.floor(Date.now() / 1000));
    }, 30_000);
    return () => {
      clearInterval(timer);
    };
  }, []);

  const open = async (given: Given): Promise<void> => {
    setProblem(null);
    const one = await oneMessage(given);
    if (!one.ok) {
      setProblem(one.error);
      return;
    }
    const r = await custos().recovery.show({ request: one.file });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setRequest(one.file);
    setSummary(r.value);
    setTyped('');
    setChecked(false);
    setExported(null);
    setSaved({});
  };

  const doExport = async (): Promise<void> => {
    if (request === null || summary === null) return;
    const op = newOpId('export');
    setOpId(op);
    setExporting(true);
    setProblem(null);
    const r = await custos().recovery.export({ request, confirmation: summary.confirmation, sheet: true, opId: op });
    setExporting(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setExported(r.value);
    await app.refresh();
  };

  const save = async (which: 'file' | 'sheet'): Promise<void> => {
    const f = which === 'file' ? exported?.file : exported?.sheet;
    if (f === undefined || f === null) return;
    const r = await custos().files.save({ file: f });
    if (!r.ok) setProblem(r.error);
    else if (r.value.saved) setSaved((s) => ({ ...s, [which]: r.value.name ?? f.name }));
  };

  const reset = (): void => {
    setRequest(null);
    setSummary(null);
    setExported(null);
    setProblem(null);
  };

  const statusLabel = (s: string): string => (STATUSES.includes(s as ShareStatus) ? t(`status_${s as ShareStatus}`) : s);

  let state: State = 'empty';
  if (summary !== null) state = summary.exportable ? 'review' : 'refused';
  if (exporting) state = 'exporting';
  if (exported !== null) state = 'exported';
  const confirmed = summary !== null && checked && typed.trim() === summary.incidentId;

  return (
    <Screen name="recovery" state={state} title={t('recoveryTitle')} lead={t('recoveryLead')}>
      {summary === null ? (
        <>
          <InputZone purpose="recovery-request" multiple={false} hint={t('dropRecoveryRequest')} camera="single" accept={['recovery-request']} onGiven={(g) => void open(g)} testId="request-input" />
          {problem === null ? null : <Problem error={problem} />}
        </>
      ) : null}

      {summary !== null && exported === null ? (
        <>
          <div className="card" data-testid="request-summary">
            <h2>{t('requestTitle', { incident: summary.incidentId })}</h2>
            <p className="plain-words" data-testid="plain-words">
              {summary.share === null
                ? t('requestPlainNoShare', { agent: summary.agent.name, key: summary.keyId, node: summary.nodeId, incident: summary.incidentId })
                : t('requestPlain', { agent: summary.agent.name, index: summary.share.shareIndex, key: summary.keyId, node: summary.nodeId, incident: summary.incidentId })}
            </p>
            <Facts
              rows={[
                [t('incident'), <strong key="i">{summary.incidentId}</strong>],
                [t('key'), summary.keyId],
                [t('node'), summary.nodeId],
                [t('backupSet'), <span key="s"><Hex value={summary.setId} chars={16} /> · {t('epochN', { n: summary.epoch })}</span>],
                [t('mode'), summary.mode === 'mixed' ? t('modeMixed') : t('modeExternal')],
                [t('threshold'), t('thresholdOf', { k: summary.threshold, n: summary.total })],
                [t('yourShare'), summary.share === null ? t('noShareHeld') : t('yourShareIs', { i: summary.share.shareIndex, status: statusLabel(summary.share.status) })],
                [t('requestedBy'), `${summary.agent.name} · ${summary.agent.code}`],
                [
                  t('expires'),
                  <span key="e" className={summary.notAfter - now < 3600 ? 'warn-text' : undefined}>
                    {t('expiresWhen', { date: date(summary.notAfter), rel: relative(summary.notAfter, now) })}
                  </span>,
                ],
              ]}
            />
            <h3>{t('approvals', { n: summary.approvals.length })}</h3>
            <ul className="approvals" data-testid="approvals">
              {summary.approvals.map((a) => (
                <li key={a.fingerprint}>
                  <span className="approver">{a.name}</span>
                  <span className="code-inline">{a.code}</span>
                  <span className="muted">{date(a.approvedAt)}</span>
                </li>
              ))}
            </ul>
            <p className="help">{t('approvalsHelp')}</p>
            {summary.warnings.length > 0 ? (
              <Notice kind="warning" title={t('warningsTitle')}>
                <ul className="plain">
                  {summary.warnings.map((w) => {
                    const said = recoveryWarning(i18n, w);
                    return (
                      <li key={w} {...(said.english ? { lang: 'en' } : {})}>
                        {said.text}
                      </li>
                    );
                  })}
                </ul>
              </Notice>
            ) : null}
          </div>

          {summary.exportable ? (
            <div className="card card-accent" data-testid="confirm-export">
              <h2>{t('confirmTitle')}</h2>
              <p>{t('confirmBody')}</p>
              <div className="check">
                <input id={`${id}-check`} type="checkbox" checked={checked} onChange={(e) => { setChecked(e.target.checked); }} />
                <label htmlFor={`${id}-check`}>{t('confirmCheck')}</label>
              </div>
              <div className="field">
                <label htmlFor={`${id}-incident`}>{t('typeIncident', { incident: summary.incidentId })}</label>
                <input id={`${id}-incident`} className="input-medium" value={typed} onChange={(e) => { setTyped(e.target.value); }} autoComplete="off" spellCheck={false} aria-describedby={`${id}-incident-help`} />
                <p className="help" id={`${id}-incident-help`}>
                  {typed.length > 0 && typed.trim() !== summary.incidentId ? t('incidentDiffers') : t('typeIncidentHelp')}
                </p>
              </div>
              {exporting ? <ProgressBar done={progress?.done ?? 0} total={progress?.total ?? 0} label={t('exporting')} testId="export-progress" /> : null}
              {problem === null ? null : <Problem error={problem} />}
              <div className="row">
                <button type="button" className="btn btn-danger" disabled={!confirmed || exporting} onClick={() => void doExport()}>
                  {t('exportShare')}
                </button>
                <button type="button" className="btn btn-quiet" onClick={reset}>
                  {t('cancel')}
                </button>
              </div>
            </div>
          ) : (
            <>
              {summary.problem === undefined ? null : <Problem error={summary.problem} title={t('cannotExport')} testId="not-exportable" />}
              <div className="row">
                <button type="button" className="btn" onClick={reset}>
                  {t('openAnother')}
                </button>
              </div>
            </>
          )}
        </>
      ) : null}

      {exported !== null ? (
        <div data-testid="exported">
          <Notice kind="success" title={t('exportedTitle')}>
            <p>{t('exportedBody', { incident: exported.summary.incidentId })}</p>
            <p>
              {t('exportHash')}: <Hex value={exported.hash} chars={64} />
            </p>
          </Notice>
          <div className="export-options">
            <div className="card option">
              <h2>{t('asFile')}</h2>
              <p className="help">{t('asFileHelp')}</p>
              <button type="button" className="btn btn-primary" onClick={() => void save('file')}>
                {t('saveExportFile')}
              </button>
              {saved.file === undefined ? null : <p className="success-text" data-testid="export-saved">{t('savedAs', { name: saved.file })}</p>}
            </div>
            <div className="card option">
              <h2>{t('asQrFrames')}</h2>
              <p className="help">{t('asQrFramesHelp', { n: exported.qr.svgs.length })}</p>
              <button type="button" className="btn btn-primary" onClick={() => { setPlayer(true); }}>
                {t('showFullScreen')}
              </button>
            </div>
            <div className="card option">
              <h2>{t('asSheet')}</h2>
              <p className="help">{t('asSheetHelp')}</p>
              {exported.sheet === null ? (
                exported.sheetProblem === undefined ? null : <Problem error={exported.sheetProblem} title={t('sheetFailed')} />
              ) : (
                <button type="button" className="btn btn-primary" onClick={() => void save('sheet')}>
                  {t('saveSheet')}
                </button>
              )}
              {saved.sheet === undefined ? null : <p className="success-text" data-testid="sheet-saved">{t('savedAs', { name: saved.sheet })}</p>}
            </div>
          </div>
          {problem === null ? null : <Problem error={problem} />}
          <div className="row">
            <button type="button" className="btn btn-quiet" onClick={reset}>
              {t('done')}
            </button>
          </div>
          {player ? (
            <QrPlayer
              svgs={exported.qr.svgs}
              title={t('playerTitle', { incident: exported.summary.incidentId })}
              subtitle={t('playerSub', { key: exported.summary.keyId, node: exported.summary.nodeId })}
              onClose={() => {
                setPlayer(false);
              }}
            />
          ) : null}
        </div>
      ) : null}
    </Screen>
  );
}
