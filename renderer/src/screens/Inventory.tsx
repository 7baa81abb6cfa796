/**
 * Inventory: the agent's signed challenge lists shares it believes you hold; the vault answers
 * each (held or missing, and the local state) in a signed attestation, saved as a file or shown as
 * QR codes. Before anything is signed the screen shows what is asked, by which agent and until
 * when (issue 12: `inventory:review`), and the answer signs only the challenge reviewed.
 */
import { useState } from 'react';
import type { FileIn, IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { oneMessage, type Given } from '../lib/messages';
import { Busy, DateText, Facts, Hex, Notice, Problem, Screen } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { InputZone } from '../ui/InputZone';
import { QrPlayer } from '../ui/QrPlayer';

type Answer = ResponseOf<'inventory:answer'>;
type Review = ResponseOf<'inventory:review'>;
type State = 'empty' | 'checking' | 'loaded' | 'answering' | 'answered';

export function Inventory() {
  const { t, num } = useI18n();
  const [challenge, setChallenge] = useState<FileIn | null>(null);
  const [review, setReview] = useState<Review | null>(null);
  const [checking, setChecking] = useState(false);
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
    setAnswer(null);
    setSaved(null);
    setReview(null);
    // Checked as the answer will be (agent, recipient, expiry) and listed; nothing is signed yet.
    setChecking(true);
    const r = await custos().inventory.review({ challenge: one.file });
    setChecking(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setChallenge(one.file);
    setReview(r.value);
  };
  const answerIt = async (): Promise<void> => {
    if (challenge === null || review === null) return;
    setAnswering(true);
    setProblem(null);
    const r = await custos().inventory.answer({ challenge, reviewedHash: review.challengeHash });
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

  let state: State = challenge === null || review === null ? 'empty' : 'loaded';
  if (checking) state = 'checking';
  if (answering) state = 'answering';
  if (answer !== null) state = 'answered';

  return (
    <Screen name="inventory" state={state} title={t('inventoryTitle')} lead={t('inventoryLead')}>
      {state === 'checking' ? <Busy label={t('inventoryChecking')} /> : null}
      {state === 'empty' ? <InputZone purpose="inventory-challenge" multiple={false} hint={t('dropChallenge')} camera="single" accept={['inventory-challenge']} onGiven={(g) => void open(g)} testId="challenge-input" /> : null}
      {(state === 'loaded' || state === 'answering') && challenge !== null && review !== null ? (
        <div className="card" data-testid="inventory-review">
          <h2>{t('inventoryReviewTitle')}</h2>
          <p>{t('challengeExplain')}</p>
          <Facts
            testId="inventory-review-facts"
            rows={[
              [t('inventoryReviewAgent'), <strong key="a">{review.agent.name}</strong>],
              [t('inventoryReviewCode'), <span key="c" className="code-inline">{review.agent.code}</span>],
              [t('inventoryReviewIssued'), <DateText key="i" seconds={review.createdAt} />],
              [t('inventoryReviewExpires'), <DateText key="e" seconds={review.notAfter} />],
              [t('inventoryReviewChallenge'), <Hex key="h" value={review.challengeId} />],
              [t('file'), <span key="f" className="file-name">{challenge.name}</span>],
            ]}
          />
          <p data-testid="inventory-review-count">{t('inventoryReviewCount', { n: review.items.length, held: review.held })}</p>
          <div className="table-wrap table-scroll">
            <table className="table" data-testid="inventory-review-table">
              <thead>
                <tr>
                  <th scope="col">{t('key')}</th>
                  <th scope="col">{t('node')}</th>
                  <th scope="col">{t('backupSet')}</th>
                  <th scope="col">{t('shareIndexShort')}</th>
                  <th scope="col">{t('localState')}</th>
                </tr>
              </thead>
              <tbody>
                {review.items.map((i, k) => (
                  <tr key={k} data-local={i.local}>
                    <td>{i.keyId}</td>
                    <td>{i.nodeId}</td>
                    <td>
                      <Hex value={i.setId} chars={8} />
                    </td>
                    <td className="num">{i.shareIndex}</td>
                    <td>{t(`local_${i.local}`)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="help">{t('inventoryReviewSignNote')}</p>
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
                setReview(null);
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
          {qr ? <QrPlayer svgs={answer.qr.svgs} frames={answer.qr.frames} title={t('attestationQr')} onClose={() => { setQr(false); }} /> : null}
        </div>
      ) : null}
    </Screen>
  );
}
