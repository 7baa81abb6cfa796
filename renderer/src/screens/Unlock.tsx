/**
 * Unlock: the passphrase; a wrong one gets a clear message and a countdown that grows with each
 * wrong try (main enforces the wait; the countdown shows it). Shown again when the vault locks
 * itself after the idle time set in Settings, or on "Lock now". While it opens, a progress bar:
 * checking the passphrase (indeterminate), then the record files read of the total (main's
 * `progress` events, phase `reading`: a 100,000-share vault takes seconds). Below, how to restore a
 * backup instead (lost passphrase, damaged vault; opened by itself when the vault is damaged): never
 * over this vault, only on the first screen once its folder has been moved away (issue 13, H2).
 */
import { useEffect, useId, useRef, useState, type SubmitEvent, type ReactNode } from 'react';
import type { EventPayload, IpcError } from '../../../shared/ipc/contract';
import { custos } from '../api';
import type { VaultStatus } from '../app-context';
import { newOpId } from '../lib/ops';
import { Notice, Problem, ProgressBar, useProgress } from '../ui/core';
import { CurrentPassphraseField, useRetryWait } from '../ui/CurrentPassphraseField';
import { useI18n } from '../ui/i18n-context';

type State = 'ready' | 'waiting' | 'unlocking' | 'wrong' | 'error';

export function Unlock({ status, locked, languageSwitch, onUnlocked, onStation }: { status: VaultStatus | null; locked: EventPayload<'vault:locked'> | null; languageSwitch: ReactNode; onUnlocked: () => void; onStation: () => void }) {
  const { t } = useI18n();
  const [pass, setPass] = useState('');
  const [state, setState] = useState<State>(() => ((status?.unlockDelayMs ?? 0) > 0 ? 'waiting' : 'ready'));
  const [error, setError] = useState<IpcError | null>(null);
  const [failures, setFailures] = useState(0);
  const wait = useRetryWait(status?.unlockDelayMs ?? 0);
  const { counting, seconds } = wait;
  const [opId, setOpId] = useState<string | null>(null);
  const progress = useProgress(opId);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();

  useEffect(() => {
    if (!counting && state === 'waiting') setState('ready');
    if (!counting) input.current?.focus();
  }, [counting, state]);

  const submit = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    if (pass.length === 0 || counting || state === 'unlocking') return;
    const op = newOpId('unlock');
    setOpId(op);
    setState('unlocking');
    setError(null);
    const r = await custos().vault.unlock({ passphrase: pass, opId: op });
    if (r.ok) {
      setPass('');
      onUnlocked();
      return;
    }
    setError(r.error);
    if (r.error.code === 'WRONG_PASSPHRASE') {
      const delay = Number(r.error.details['delaySeconds'] ?? 0);
      const n = Number(r.error.details['failures'] ?? failures + 1);
      setFailures(n);
      wait.start(delay);
      setPass('');
      setState('wrong');
    } else {
      setState('error');
    }
  };

  const reason = locked?.reason;
  return (
    <main className="page" data-state="locked">
      <div className="page-bar">
        <p className="brand brand-inline">
          <span className="brand-name">Custos</span>
          <span className="brand-sub">{t('brandSub')}</span>
        </p>
        {languageSwitch}
      </div>
      <section className="screen screen-narrow" data-screen="unlock" data-state={state} data-countdown={counting ? 'active' : 'none'} data-locked-reason={reason ?? 'none'} aria-labelledby="h-unlock">
        <h1 id="h-unlock">{t('unlockTitle')}</h1>
        <p className="lead">{status?.info === null || status?.info === undefined ? t('unlockLead') : t('unlockLeadNamed', { name: status.info.name })}</p>
        {reason === 'idle' ? <Notice kind="info" title={t('lockedIdle', { n: status?.autoLockMinutes ?? 0 })} testId="locked-idle" /> : null}
        {reason === 'request' ? <Notice kind="info" title={t('lockedRequest')} testId="locked-request" /> : null}
        {reason === 'error' ? <Notice kind="warning" title={t('lockedError')} /> : null}
        <form className="card form" onSubmit={(e) => void submit(e)} noValidate>
          <CurrentPassphraseField id={`${id}-pass`} label={t('passphrase')} value={pass} onChange={setPass} inputRef={input} autoFocus disabled={state === 'unlocking'} invalid={state === 'wrong'} describedBy={`${id}-status`} />
          <div id={`${id}-status`} aria-live="polite">
            {state === 'wrong' && error !== null ? (
              <Notice kind="error" title={t('wrongPassphrase')} testId="wrong-passphrase">
                <p>{failures > 1 ? t('wrongPassphraseMany', { n: failures }) : t('wrongPassphraseOnce')}</p>
              </Notice>
            ) : null}
            {state === 'error' && error !== null ? <Problem error={error} /> : null}
            {counting ? (
              <p className="countdown" data-testid="countdown">
                {t('tryAgainIn', { s: seconds })}
              </p>
            ) : null}
          </div>
          {state === 'unlocking' ? (
            <ProgressBar
              done={progress?.phase === 'reading' ? progress.done : 0}
              total={progress?.phase === 'reading' ? progress.total : 0}
              label={progress?.phase === 'waiting' ? t('waitingDelay') : progress?.phase === 'deriving' ? t('unlockDeriving') : progress?.phase === 'reading' ? t('unlockReading') : t('unlocking')}
              testId="unlock-progress"
            />
          ) : null}
          <div className="row">
            <button type="submit" className="btn btn-primary" disabled={pass.length === 0 || counting || state === 'unlocking'}>
              {counting ? t('unlockWait', { s: seconds }) : t('unlock')}
            </button>
          </div>
          <p className="help">{t('unlockHelp')}</p>
        </form>
        <details className="card restore-elsewhere" data-testid="restore-elsewhere" open={state === 'error' && error?.code === 'VAULT_CORRUPT' ? true : undefined}>
          <summary>{t('unlock_restoreTitle')}</summary>
          <p>{t('unlock_restoreNever')}</p>
          <p>{t('unlock_restoreHow')}</p>
          <p className="help">{t('unlock_restorePassphrase')}</p>
        </details>
        <p className="aside">
          {t('opsStationToo')}{' '}
          <button type="button" className="link" onClick={onStation}>
            {t('openStation')}
          </button>
        </p>
      </section>
    </main>
  );
}
