/**
 * "Restore a vault from a backup" on the first screen (issue 13, H2), for a custodian whose
 * computer or disk is gone: the vault's passphrase here, the backup folder (custos-vault-…) in
 * main's system dialog; main opens the backup with the passphrase before writing anything, copies
 * it beside the vault folder, verifies it as unlock would and only then puts it in place, then
 * unlocks it (main/handlers/vault-backup.ts `backup:restore`). Every refusal's reason has its own
 * sentence in both languages, with what to do; nothing is ever restored over a vault.
 */
import { useId, useState, type SubmitEvent } from 'react';
import type { IpcError } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { message, type StringKey } from '../i18n';
import { Notice, Problem, ProgressBar } from './core';
import { CurrentPassphraseField } from './CurrentPassphraseField';
import { useI18n } from './i18n-context';

type Phase = 'ready' | 'working' | 'cancelled' | 'wrong' | 'error';

const REASON_KEY = {
  'vault-exists': 'restore_err_vaultExists',
  'not-empty': 'restore_err_notEmpty',
  'same-folder': 'restore_err_sameFolder',
  'not-backup': 'restore_err_notBackup',
  damaged: 'restore_err_damaged',
  'other-identity': 'restore_err_otherIdentity',
  rollback: 'restore_err_rollback',
  'read-back': 'restore_err_readBack',
  'not-writable': 'restore_err_notWritable',
  busy: 'restore_err_busy',
} as const satisfies Record<string, StringKey>;

/** A refusal with a known reason, in the window's sentence (both languages); main's detail kept. */
function explained(error: IpcError): IpcError {
  const reason = error.details['reason'];
  if (typeof reason !== 'string' || !Object.hasOwn(REASON_KEY, reason)) return error;
  const key = REASON_KEY[reason as keyof typeof REASON_KEY];
  return { ...error, message: { en: message('en', key), 'zh-CN': message('zh-CN', key) } };
}

export function RestoreBackupForm({ onRestored, onBack }: { onRestored: (unlocked: boolean) => void; onBack: () => void }) {
  const { t } = useI18n();
  const id = useId();
  const [pass, setPass] = useState('');
  const [phase, setPhase] = useState<Phase>('ready');
  const [problem, setProblem] = useState<IpcError | null>(null);

  const submit = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    if (pass.length === 0 || phase === 'working') return;
    setPhase('working');
    setProblem(null);
    const r = await custos().backup.restore({ passphrase: pass });
    if (r.ok) {
      if (r.value.restore === undefined) {
        setPhase('cancelled');
        return;
      }
      setPass('');
      onRestored(r.value.restore.unlocked);
      return;
    }
    if (r.error.code === 'WRONG_PASSPHRASE') {
      setPass('');
      setPhase('wrong');
      return;
    }
    setProblem(explained(r.error));
    setPhase('error');
  };

  const working = phase === 'working';
  return (
    <section className="screen screen-narrow" data-screen="restore" data-state={phase} aria-labelledby={`${id}-h`}>
      <h1 id={`${id}-h`}>{t('restore_title')}</h1>
      <p className="lead">{t('restore_lead')}</p>
      <form className="card form" onSubmit={(e) => void submit(e)} noValidate data-testid="restore-form">
        <CurrentPassphraseField
          id={`${id}-pass`}
          label={t('restore_passphrase')}
          value={pass}
          onChange={(next) => {
            setPass(next);
            if (phase === 'wrong') setPhase('ready');
          }}
          disabled={working}
          invalid={phase === 'wrong'}
          toggle
          autoFocus
          help={phase === 'wrong' ? t('restore_wrongPassphrase') : t('restore_passphraseHelp')}
          {...(phase === 'wrong' ? { helpTestId: 'restore-wrong-passphrase' } : {})}
        />
        <div aria-live="polite">
          {working ? <ProgressBar done={0} total={0} label={t('restore_working')} testId="restore-progress" /> : null}
          {phase === 'cancelled' ? <Notice kind="info" title={t('restore_cancelled')} testId="restore-cancelled" /> : null}
          {phase === 'error' && problem !== null ? <Problem error={problem} testId="restore-problem" /> : null}
        </div>
        <p className="help">{t('restore_lostChanges')}</p>
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={pass.length === 0 || working} data-testid="restore-start">
            {t('restore_start')}
          </button>
          <button type="button" className="btn" onClick={onBack} disabled={working} data-testid="restore-back">
            {t('restore_back')}
          </button>
        </div>
      </form>
    </section>
  );
}
