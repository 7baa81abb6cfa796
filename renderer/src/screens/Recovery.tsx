/**
 * Recovery export: the agent's signed recovery request is verified and described in plain words
 * (incident, key, node, mode, approvals, expiry). Each approval shows whether it verifies against an
 * approver this vault pinned (or is unknown, or a changed key); below two verified approvers the
 * export needs a typed override reason. Warnings say what to do and whom to call back (issue 12).
 * After a deliberate confirmation the share is
 * exported sealed to the recovery session, as a file, as QR frames shown full-screen, and as the
 * printable recovery sheet (PDF).
 */
import { useEffect, useId, useState } from 'react';
import type { FileIn, IpcError, ResponseOf, ShareStatus } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { oneMessage, type Given } from '../lib/messages';
import { newOpId } from '../lib/ops';
import { Facts, Hex, Notice, Problem, ProgressBar, Screen, useProgress } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { InputZone } from '../ui/InputZone';
import { QrPlayer } from '../ui/QrPlayer';
import { STATUSES } from './Shares';

type Summary = ResponseOf<'recovery:show'>;
type Contact = Summary['agent']['contact'];

/** The override reason's minimum length (main/services/recovery.ts MIN_OVERRIDE_REASON). */
const MIN_REASON = 20;
const reasonLength = (s: string): number => s.trim().replace(/\s+/g, ' ').length;
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
  const [reason, setReason] = useState('');
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
    setReason('');
    setExported(null);
    setSaved({});
  };

  const doExport = async (): Promise<void> => {
    if (request === null || summary === null) return;
    const op = newOpId('export');
    setOpId(op);
    setExporting(true);
    setProblem(null);
    const r = await custos().recovery.export({ request, confirmation: summary.confirmation, sheet: true, opId: op, ...(summary.needsOverride ? { override: reason } : {}) });
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
  const reasonOk = summary === null || !summary.needsOverride || reasonLength(reason) >= MIN_REASON;
  const confirmed = summary !== null && checked && typed.trim() === summary.incidentId && reasonOk;
  const callBack = (c: Contact) => (c === undefined ? <span className="muted">{t('recNoContact')}</span> : <span className="contact">{t('recCallBack', { name: c.name, reach: c.reach })}</span>);

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
            <h2 data-testid="request-title">
              {summary.incidentTitle === undefined ? t('requestTitle', { incident: summary.incidentId }) : t('requestTitleNamed', { incident: summary.incidentId, title: summary.incidentTitle })}
            </h2>
            <p className="plain-words" data-testid="plain-words">
              {summary.share === null
                ? t('requestPlainNoShare', { agent: summary.agent.name, key: summary.keyId, node: summary.nodeId, incident: summary.incidentId })
                : t('requestPlain', { agent: summary.agent.name, index: summary.share.shareIndex, key: summary.keyId, node: summary.nodeId, incident: summary.incidentId })}
            </p>
            <Facts
              rows={[
                [t('incident'), <strong key="i">{summary.incidentId}</strong>],
                // Issue 13: the incident's name as the approvers signed it; <bdi> keeps a right-to-left title from reordering the row.
                ...(summary.incidentTitle === undefined ? [] : [[t('incidentTitle'), <bdi key="t" data-testid="incident-title">{summary.incidentTitle}</bdi>] as const]),
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
                <li key={a.fingerprint} data-verdict={a.verdict} className={`approval approval-${a.verdict}`}>
                  <span className="approver">{a.name}</span>
                  <span className="code-inline">{a.code}</span>
                  <span className="muted">{date(a.approvedAt)}</span>
                  <span className={`verdict verdict-${a.verdict}`} data-testid="verdict">
                    {t(`approverVerdict_${a.verdict}`)}
                  </span>
                  {a.verdict === 'changed-key' && a.pinned !== undefined ? <span className="verdict-detail">{t('approverPinnedAs', { name: a.pinned.name, code: a.pinned.code })}</span> : null}
                  {a.verdict === 'verified' ? null : <span className="verdict-detail">{callBack(a.contact)}</span>}
                </li>
              ))}
            </ul>
            <p className={summary.verifiedApprovals < summary.requiredApprovals ? 'help help-error' : 'help help-ok'} data-testid="verified-count">
              {t('verifiedApprovals', { verified: summary.verifiedApprovals, need: summary.requiredApprovals })}
            </p>
            <p className="help">{t('approvalsHelp')}</p>
            {summary.warnings.length > 0 ? (
              <Notice kind="warning" title={t('warningsTitle')} testId="recovery-warnings">
                <ul className="warnings">
                  {summary.warnings.map((w) => (
                    <li key={w.code + JSON.stringify(w.params)} data-warning={w.code}>
                      <p className="warning-what">{t(`recWarn_${w.code}`, w.params)}</p>
                      <p className="warning-do">
                        {t(`recWarnDo_${w.code}`)} {callBack(w.contact)}
                      </p>
                    </li>
                  ))}
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
              {summary.needsOverride ? (
                <div className="override" data-testid="override">
                  <h3>{t('overrideTitle')}</h3>
                  <p>{t('overrideBody')}</p>
                  <div className="field">
                    <label htmlFor={`${id}-reason`}>{t('overrideLabel')}</label>
                    <textarea id={`${id}-reason`} className="input-wide" rows={3} maxLength={500} value={reason} onChange={(e) => { setReason(e.target.value); }} aria-describedby={`${id}-reason-help`} />
                    <p className={reasonOk || reason.length === 0 ? 'help' : 'help help-error'} id={`${id}-reason-help`}>
                      {reasonOk || reason.length === 0 ? t('overrideHelp', { min: MIN_REASON }) : t('overrideTooShort', { left: MIN_REASON - reasonLength(reason) })}
                    </p>
                  </div>
                </div>
              ) : null}
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
              frames={exported.qr.frames}
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
