/**
 * Inventory: the agent's signed challenge lists shares it believes you hold; the vault answers
 * each (held or missing, and the local state) in a signed attestation, saved as a file or shown as
 * QR codes.
 */
import { useState } from 'react';
import type { FileIn, IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { oneMessage, type Given } from '../lib/messages';
import { Hex, Notice, Problem, Screen, Busy } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { InputZone } from '../ui/InputZone';
import { QrPlayer } from '../ui/QrPlayer';

type Answer = ResponseOf<'inventory:answer'>;
type State = 'empty' | 'loaded' | 'answering' | 'answered';

export function Inventory() {
  const { t, num } = useI18n();
  const [challenge, setChallenge] = useState<FileIn | null>(null);
  const [answering, setAnswering] = useState(false);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [qr, setQr] = useState(false);

  const open = async (given: Given): Promise<void> => {
    setProblem(null);
    const one = await oneMessage(given);
    if (!one.ok) {
      setProblem(one.error);
      return;
    }
    setChallenge(one.file);
    setAnswer(null);
    setSaved(null);
  };
  const answerIt = async (): Promise<void> => {
    if (challenge === null) return;
    setAnswering(true);
    setProblem(null);
    const r = await custos().inventory.answer({ challenge });
    setAnswering(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setAnswer(r.value);
  };
  const save = async (): Promise<void> => {
    if (answer === null) return;
    const r = await custos().files.save({ file: answer.file });
    if (!r.ok) setProblem(r.error);
    else if (r.value.saved) setSaved(r.value.name ?? answer.file.name);
  };

  let state: State = challenge === null ? 'empty' : 'loaded';
  if (answering) state = 'answering';
  if (answer !== null) state = 'answered';

  return (
    <Screen name="inventory" state={state} title={t('inventoryTitle')} lead={t('inventoryLead')}>
      {state === 'empty' ? <InputZone purpose="inventory-challenge" multiple={false} hint={t('dropChallenge')} camera="single" accept={['inventory-challenge']} onGiven={(g) => void open(g)} testId="challenge-input" /> : null}
      {(state === 'loaded' || state === 'answering') && challenge !== null ? (
        <div className="card">
          <h2>{t('challengeLoaded')}</h2>
          <p>{t('challengeExplain')}</p>
          <p className="muted">
            {t('file')}: <span className="file-name">{challenge.name}</span>
          </p>
          {answering ? <Busy label={t('answering')} /> : null}
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={answering} onClick={() => void answerIt()}>
              {t('signAttestation')}
            </button>
            <button
              type="button"
              className="btn btn-quiet"
              onClick={() => {
                setChallenge(null);
                setProblem(null);
              }}
            >
              {t('cancel')}
            </button>
          </div>
        </div>
      ) : null}
      {problem === null ? null : <Problem error={problem} />}
      {answer !== null ? (
        <div data-testid="attestation">
          <div className="summary">
            <div className="stat stat-ok">
              <span className="stat-n">{num(answer.held)}</span>
              <span className="stat-l">{t('held')}</span>
            </div>
            <div className={answer.missing > 0 ? 'stat stat-bad' : 'stat'}>
              <span className="stat-n">{num(answer.missing)}</span>
              <span className="stat-l">{t('missingCount')}</span>
            </div>
          </div>
          {answer.missing > 0 ? <Notice kind="warning" title={t('inventoryMissing', { n: answer.missing })} /> : <Notice kind="success" title={t('inventoryAllHeld')} />}
          <div className="table-wrap">
            <table className="table" data-testid="inventory-table">
              <thead>
                <tr>
                  <th scope="col">{t('key')}</th>
                  <th scope="col">{t('node')}</th>
                  <th scope="col">{t('backupSet')}</th>
                  <th scope="col">{t('shareIndexShort')}</th>
                  <th scope="col">{t('answer')}</th>
                  <th scope="col">{t('localState')}</th>
                </tr>
              </thead>
              <tbody>
                {answer.items.map((i, k) => (
                  <tr key={k} data-answer={i.answer}>
                    <td>{i.keyId}</td>
                    <td>{i.nodeId}</td>
                    <td>
                      <Hex value={i.setId} chars={8} />
                    </td>
                    <td className="num">{i.shareIndex}</td>
                    <td>
                      <span className={`badge badge-${i.answer === 'held' ? 'accepted' : 'refused'}`}>{t(`answer_${i.answer}`)}</span>
                    </td>
                    <td>{t(`local_${i.local}`)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="row">
            <button type="button" className="btn btn-primary" onClick={() => void save()}>
              {t('saveAttestation')}
            </button>
            <button type="button" className="btn" onClick={() => { setQr(true); }}>
              {t('showQr')}
            </button>
            <button
              type="button"
              className="btn btn-quiet"
              onClick={() => {
                setChallenge(null);
                setAnswer(null);
              }}
            >
              {t('done')}
            </button>
          </div>
          {saved === null ? null : <Notice kind="success" title={t('savedAs', { name: saved })} testId="attestation-saved" />}
          {qr ? <QrPlayer svgs={answer.qr.svgs} title={t('attestationQr')} onClose={() => { setQr(false); }} /> : null}
        </div>
      ) : null}
    </Screen>
  );
}
