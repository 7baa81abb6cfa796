/**
 * First run: the vault and the custodian's identity are created, then the enrollment card is
 * shown: a file to save, a QR code, and the 24-digit code to read out to ops. Or (issue 13, H2) the
 * vault is restored from a backup instead (ui/RestoreBackupForm.tsx), and the window opens on the
 * restored shares; if main could not unlock it right away, the page starts again on the unlock screen.
 */
import { useCallback, useId, useState, type SubmitEvent, type ReactNode } from 'react';
import type { IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import type { ScreenId } from '../app-context';
import { newOpId } from '../lib/ops';
import { ComparisonCode, Notice, Problem, ProgressBar, QrImage, useProgress } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { PassphraseField } from '../ui/PassphraseField';
import { QrPlayer } from '../ui/QrPlayer';
import { RestoreBackupForm } from '../ui/RestoreBackupForm';
import { VaultBackupCard } from '../ui/VaultBackupCard';

type State = 'form' | 'creating' | 'error' | 'enrollment';

export function FirstRun({ onDone, onStation, languageSwitch }: { onDone: (next: ScreenId) => void; onStation: () => void; languageSwitch: ReactNode }) {
  const { t } = useI18n();
  const [state, setState] = useState<State>('form');
  const [name, setName] = useState('');
  const [pass, setPass] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<IpcError | null>(null);
  const [opId, setOpId] = useState<string | null>(null);
  const [created, setCreated] = useState<ResponseOf<'vault:create'> | null>(null);
  const [restoring, setRestoring] = useState(false);
  const progress = useProgress(opId);
  const ids = useId();

  // Main's policy (zxcvbn at the vault's KDF cost) must accept it: vault:create refuses it otherwise.
  const [acceptable, setAcceptable] = useState(false);
  const onAcceptable = useCallback((ok: boolean) => { setAcceptable(ok); }, []);
  const mismatch = again.length > 0 && again !== pass;
  const ready = name.trim().length > 0 && acceptable && pass === again;

  const submit = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    if (!ready) return;
    const op = newOpId('create');
    setOpId(op);
    setError(null);
    setState('creating');
    const r = await custos().vault.create({ name: name.trim(), passphrase: pass, opId: op });
    if (!r.ok) {
      setError(r.error);
      setState('error');
      return;
    }
    setPass('');
    setAgain('');
    setCreated(r.value);
    setState('enrollment');
  };

  return (
    <main className="page" data-state={state === 'enrollment' ? 'enrollment' : 'first-run'}>
      <div className="page-bar">
        <p className="brand brand-inline">
          <span className="brand-name">Custos</span>
          <span className="brand-sub">{t('brandSub')}</span>
        </p>
        {languageSwitch}
      </div>
      {restoring && created === null ? (
        <RestoreBackupForm
          onRestored={(unlocked) => {
            // Unlocked: straight to what came back. Not (main could not unlock it): the app starts again and finds it locked.
            if (unlocked) onDone('shares');
            else window.location.reload();
          }}
          onBack={() => {
            setRestoring(false);
          }}
        />
      ) : created === null ? (
        <section className="screen screen-narrow" data-screen="first-run" data-state={state} aria-labelledby="h-first-run">
          <h1 id="h-first-run">{t('firstRunTitle')}</h1>
          <p className="lead">{t('firstRunLead')}</p>
          <form className="card form" onSubmit={(e) => void submit(e)} noValidate>
            <div className="field">
              <label htmlFor={`${ids}-name`}>{t('yourName')}</label>
              <input id={`${ids}-name`} value={name} onChange={(e) => { setName(e.target.value); }} autoComplete="name" maxLength={200} disabled={state === 'creating'} aria-describedby={`${ids}-name-help`} />
              <p className="help" id={`${ids}-name-help`}>
                {t('yourNameHelp')}
              </p>
            </div>
            <PassphraseField
              id={`${ids}-pass`}
              label={t('passphrase')}
              value={pass}
              onChange={setPass}
              onGenerated={(g) => {
                setPass(g);
                setAgain(g);
              }}
              onAcceptable={onAcceptable}
              name={name.trim()}
              disabled={state === 'creating'}
              testId="new-passphrase"
            />
            <div className="field">
              <label htmlFor={`${ids}-again`}>{t('passphraseAgain')}</label>
              <input id={`${ids}-again`} type="password" value={again} onChange={(e) => { setAgain(e.target.value); }} autoComplete="new-password" disabled={state === 'creating'} aria-invalid={mismatch} aria-describedby={`${ids}-again-help`} />
              <p className={mismatch ? 'help help-error' : 'help'} id={`${ids}-again-help`}>
                {mismatch ? t('passphraseMismatch') : t('passphraseRemember')}
              </p>
            </div>
            {state === 'creating' ? <ProgressBar done={progress?.done ?? 0} total={progress?.total ?? 0} label={t('creatingVault')} testId="create-progress" /> : null}
            {error === null ? null : <Problem error={error} />}
            <div className="row">
              <button type="submit" className="btn btn-primary" disabled={!ready || state === 'creating'}>
                {t('createVault')}
              </button>
            </div>
          </form>
          <p className="aside" data-testid="restore-offer">
            {t('restore_offer')}{' '}
            <button type="button" className="link" onClick={() => { setRestoring(true); }} disabled={state === 'creating'} data-testid="restore-open">
              {t('restore_open')}
            </button>
          </p>
          <p className="aside">
            {t('opsNoVault')}{' '}
            <button type="button" className="link" onClick={onStation}>
              {t('openStation')}
            </button>
          </p>
        </section>
      ) : (
        <Enrollment
          created={created}
          onContinue={() => {
            onDone('trust');
          }}
        />
      )}
    </main>
  );
}

function Enrollment({ created, onContinue }: { created: ResponseOf<'vault:create'>; onContinue: () => void }) {
  const { t } = useI18n();
  const [saved, setSaved] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<IpcError | null>(null);
  const [player, setPlayer] = useState(false);
  const save = async (): Promise<void> => {
    const r = await custos().files.save({ file: created.card });
    if (!r.ok) {
      setSaveError(r.error);
      return;
    }
    setSaveError(null);
    if (r.value.saved) setSaved(r.value.name ?? created.card.name);
  };
  const first = created.qr.svgs[0];
  return (
    <section className="screen" data-screen="enrollment" data-state={saved === null ? 'shown' : 'saved'} aria-labelledby="h-enrollment">
      <h1 id="h-enrollment">{t('enrollmentTitle')}</h1>
      <p className="lead">{t('enrollmentLead', { name: created.info.name })}</p>
      <div className="enroll">
        <div className="card enroll-code">
          <ComparisonCode code={created.info.code} label={t('yourCode')} testId="my-code" />
          <p className="help">{t('enrollmentCodeHelp')}</p>
          <h2 className="enroll-steps-title">{t('enrollmentStepsTitle')}</h2>
          <ol className="steps">
            <li>{t('enrollmentStep1')}</li>
            <li>{t('enrollmentStep2')}</li>
            <li>{t('enrollmentStep3')}</li>
          </ol>
          <div className="row">
            <button type="button" className="btn btn-primary" onClick={() => void save()}>
              {t('saveCardFile')}
            </button>
            <button type="button" className="btn" onClick={onContinue} data-testid="enrollment-continue">
              {t('continueToTrust')}
            </button>
          </div>
          {saved === null ? null : <Notice kind="success" title={t('savedAs', { name: saved })} testId="card-saved" />}
          {saveError === null ? null : <Problem error={saveError} />}
        </div>
        <div className="card enroll-qr">
          {first === undefined ? null : <QrImage svg={first} alt={t('enrollmentQrAlt')} className="qr-medium" testId="enrollment-qr" />}
          {created.qr.svgs.length > 1 ? (
            <button type="button" className="btn" onClick={() => { setPlayer(true); }}>
              {t('showQrFrames', { n: created.qr.svgs.length })}
            </button>
          ) : (
            <p className="help">{t('enrollmentQrHelp')}</p>
          )}
        </div>
      </div>
      <VaultBackupCard place="first-run" />
      {player ? <QrPlayer svgs={created.qr.svgs} frames={created.qr.frames} title={t('enrollmentTitle')} onClose={() => { setPlayer(false); }} /> : null}
    </section>
  );
}
