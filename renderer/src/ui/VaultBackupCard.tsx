/**
 * The guided vault backup (issue 13), in Settings and at the end of first run: "back up to
 * removable media" copies the sealed vault into a new folder the person picks in main's system
 * dialog, then opens the copy with the passphrase typed here (main/handlers/vault-backup.ts; the
 * live vault is not replaced). The card shows the last verified backup (when, through Intl; where,
 * by folder names only), a warning when the vault changed since or was never backed up, and after
 * a backup what was verified. A wrong passphrase is an error at the field, with main's wait before
 * the next try; any refusal leaves no copy counted as verified (main removes it).
 *
 * `BackupReminder` is the quiet line a person sees without opening Settings (the Shares header).
 */
import { useCallback, useEffect, useId, useState, type SubmitEvent } from 'react';
import type { IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { message, type StringKey } from '../i18n';
import { Facts, Notice, Problem, ProgressBar } from './core';
import { CurrentPassphraseField, useRetryWait } from './CurrentPassphraseField';
import { useI18n } from './i18n-context';

type Status = ResponseOf<'backup:status'>;
type Done = NonNullable<ResponseOf<'backup:toFolder'>['backup']>;
type Phase = 'ready' | 'working' | 'done' | 'cancelled' | 'wrong' | 'error';

const REASONS = ['inside-vault', 'not-folder', 'not-writable', 'read-back', 'not-verified'] as const;
type Reason = (typeof REASONS)[number];
const REASON_KEY: Record<Reason, StringKey> = {
  'inside-vault': 'backup_err_insideVault',
  'not-folder': 'backup_err_notFolder',
  'not-writable': 'backup_err_notWritable',
  'read-back': 'backup_err_readBack',
  'not-verified': 'backup_err_notVerified',
};

/** A refusal with a known reason, in the window's own sentence (both languages); main's detail kept. */
function explained(error: IpcError): IpcError {
  const reason = REASONS.find((r) => r === error.details['reason']);
  if (reason === undefined) return error;
  const key = REASON_KEY[reason];
  return { ...error, message: { en: message('en', key), 'zh-CN': message('zh-CN', key) } };
}

function useBackupStatus(): { status: Status | null; problem: IpcError | null; reload: () => Promise<void> } {
  const [status, setStatus] = useState<Status | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const reload = useCallback(async (): Promise<void> => {
    const r = await custos().backup.status();
    if (r.ok) {
      setStatus(r.value);
      setProblem(null);
    } else setProblem(r.error);
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { status, problem, reload };
}

export function VaultBackupCard({ place }: { place: 'settings' | 'first-run' }) {
  const { t, lang, date, relative, size } = useI18n();
  const id = useId();
  const { status, problem: statusProblem, reload } = useBackupStatus();
  const [pass, setPass] = useState('');
  const [phase, setPhase] = useState<Phase>('ready');
  const [done, setDone] = useState<Done | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [failures, setFailures] = useState(0);
  const wait = useRetryWait();
  const { counting, seconds } = wait;

  const submit = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    if (pass.length === 0 || counting || phase === 'working') return;
    setPhase('working');
    setProblem(null);
    setDone(null);
    const r = await custos().backup.toFolder({ passphrase: pass });
    if (r.ok) {
      if (r.value.backup === undefined) setPhase('cancelled');
      else {
        setPass('');
        setFailures(0);
        setDone(r.value.backup);
        setPhase('done');
      }
    } else if (r.error.code === 'WRONG_PASSPHRASE') {
      setPass('');
      setFailures(Number(r.error.details['failures'] ?? failures + 1));
      wait.start(Number(r.error.details['delaySeconds'] ?? 0));
      setPhase('wrong');
    } else {
      setProblem(explained(r.error));
      setPhase('error');
    }
    await reload();
  };

  const last = status?.last ?? null;
  const due = status?.due ?? false;
  // Sentences side by side: a space in English, none in Chinese.
  const gap = lang === 'zh-CN' ? '' : ' ';
  return (
    <form className="card vault-backup" onSubmit={(e) => void submit(e)} data-testid="vault-backup" data-state={phase} data-due={status === null ? 'unknown' : String(due)} noValidate>
      <h2>{place === 'first-run' ? t('backup_titleFirstRun') : t('backup_title')}</h2>
      <p className="help">{t('backup_help')}</p>

      <div aria-live="polite">
        {status === null ? null : last === null ? (
          <Notice kind="warning" title={t('backup_never')} testId="backup-due">
            <p>{t('backup_neverBody')}</p>
          </Notice>
        ) : due ? (
          <Notice kind="warning" title={t('backup_stale', { date: date(last.verifiedAt) })} testId="backup-due">
            <p>{t('backup_staleBody', { then: last.generation, now: status.generation })}</p>
          </Notice>
        ) : (
          <Notice kind="success" title={t('backup_current', { date: date(last.verifiedAt) })} testId="backup-current" />
        )}
        {last === null ? null : (
          <Facts
            testId="backup-last"
            rows={[
              [t('backup_lastVerified'), <time key="t" dateTime={new Date(last.verifiedAt * 1000).toISOString()} title={date(last.verifiedAt)}>{`${date(last.verifiedAt)} (${relative(last.verifiedAt)})`}</time>],
              [t('backup_where'), <span key="w" className="backup-where">{t('backup_whereValue', { folder: last.folder, drive: last.drive })}</span>],
              [t('backup_holds'), t('backup_holdsValue', { generation: last.generation, files: last.files, size: size(last.bytes) })],
            ]}
          />
        )}
        {statusProblem === null ? null : <Problem error={statusProblem} />}
      </div>

      <div className="row row-fields">
        <CurrentPassphraseField
          id={`${id}-pass`}
          label={t('backup_passphrase')}
          value={pass}
          onChange={(next) => {
            setPass(next);
            if (phase === 'wrong') setPhase('ready');
          }}
          disabled={phase === 'working'}
          invalid={phase === 'wrong'}
          toggle
          grow
          help={phase === 'wrong' ? [t('backup_wrongPassphrase'), failures > 1 ? t('wrongPassphraseMany', { n: failures }) : t('wrongPassphraseOnce'), ...(counting ? [t('tryAgainIn', { s: seconds })] : [])].join(gap) : t('backup_passphraseHelp')}
          {...(phase === 'wrong' ? { helpTestId: 'backup-wrong-passphrase' } : {})}
        />
        <button type="submit" className="btn btn-primary" disabled={pass.length === 0 || counting || phase === 'working'} data-testid="backup-start">
          {t('backup_start')}
        </button>
      </div>

      {phase === 'working' ? <ProgressBar done={0} total={0} label={t('backup_working')} testId="backup-progress" /> : null}
      {phase === 'cancelled' ? <Notice kind="info" title={t('backup_cancelled')} testId="backup-cancelled" /> : null}
      {phase === 'error' && problem !== null ? <Problem error={problem} testId="backup-problem" /> : null}
      {phase === 'done' && done !== null ? (
        <Notice kind="success" title={t('backup_done')} testId="backup-done">
          <ul className="plain backup-checks">
            <li>{t('backup_doneFiles', { files: done.files, size: size(done.bytes), folder: done.folder, drive: done.drive })}</li>
            <li>{t('backup_doneIdentity')}</li>
            <li>{t('backup_doneRecords', { generation: done.generation, shares: done.shares })}</li>
          </ul>
          <p className="help">{t('backup_restoreHelp')}</p>
        </Notice>
      ) : null}
    </form>
  );
}

/** A quiet line where a person looks every day: the vault has no current verified backup. */
export function BackupReminder() {
  const { t, date } = useI18n();
  const app = useApp();
  const { status } = useBackupStatus();
  if (status === null || !status.due) return null;
  return (
    <div className="backup-reminder" role="status" data-testid="backup-reminder">
      <span>{status.last === null ? t('backup_reminderNever') : t('backup_reminderStale', { date: date(status.last.verifiedAt) })}</span>
      <button
        type="button"
        className="link"
        onClick={() => {
          app.go('settings');
          // Settings is long: bring the backup card into view once it is drawn.
          requestAnimationFrame(() => {
            document.querySelector('[data-testid="vault-backup"]')?.scrollIntoView({ block: 'start' });
          });
        }}
      >
        {t('backup_reminderGo')}
      </button>
    </div>
  );
}
