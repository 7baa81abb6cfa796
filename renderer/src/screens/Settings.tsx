/**
 * Settings: language, auto-lock, the optional recovery agent (URL and API token, ui/AgentLink.tsx;
 * without it the app makes no network request at all), the deletion cooling period, the enrollment
 * card again, the passphrase. A refused value is shown at its field (aria-invalid, aria-describedby).
 * At a station without a vault (`stationOnly`) only the language and the recovery agent are shown.
 */
import { useCallback, useEffect, useId, useState, type SubmitEvent } from 'react';
import type { IpcError, RequestOf, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { LANGUAGES, localError, type Language } from '../i18n';
import { AgentLinkSettings, fieldAria, FieldProblem } from '../ui/AgentLink';
import { ComparisonCode, Notice, Problem, QrImage, Screen } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { PassphraseField } from '../ui/PassphraseField';
import { NumberSetting } from '../ui/NumberSetting';
import { VaultBackupCard } from '../ui/VaultBackupCard';

type Change = RequestOf<'settings:set'>['change'];
type State = 'ready' | 'saved' | 'error';
/** The fields a change can be refused for (settings:set's SETTINGS_INVALID names it in `details.field`). */
type Field = 'autoLockMinutes' | 'deletionCoolingDays' | 'recoveryMinExpiryMinutes' | 'recoveryExpectMode';

export function SettingsScreen({ onLanguage, stationOnly = false }: { onLanguage: (l: Language) => void; stationOnly?: boolean }) {
  const { t } = useI18n();
  const app = useApp();
  const s = app.settings;
  const id = useId();
  const [externalOnly, setExternalOnly] = useState(s.recoveryExpectMode === 'external-only');
  const [state, setState] = useState<State>('ready');
  const [savedWhat, setSavedWhat] = useState<string | null>(null);
  const [problem, setProblem] = useState<{ field: Field | null; error: IpcError } | null>(null);
  const [info, setInfo] = useState<ResponseOf<'app:info'> | null>(null);

  useEffect(() => {
    void custos()
      .app.info()
      .then((r) => {
        if (r.ok) setInfo(r.value);
      });
  }, []);
  const save = async (change: Change, what: string, field: Field): Promise<void> => {
    const r = await custos().settings.set({ change });
    if (!r.ok) {
      // At the field main named, else at the field changed.
      const named = r.error.details['field'];
      setProblem({ field: typeof named === 'string' && named in change ? (named as Field) : field, error: r.error });
      setState('error');
      return;
    }
    setProblem(null);
    setSavedWhat(what);
    setState('saved');
    await app.refresh();
  };
  const outOfRange = (key: 'errMinutesRange' | 'errDaysRange' | 'errPolicyMinutesRange', field: Field): void => {
    setProblem({ field, error: localError(key) });
    setState('error');
  };
  const onSaved = useCallback((what: string): void => {
    setProblem(null);
    setSavedWhat(what);
    setState('saved');
  }, []);
  /** The refusal of `field`, when it is the one refused. */
  const problemOf = (field: Field): IpcError | null => (problem?.field === field ? problem.error : null);
  return (
    <Screen name="settings" state={state} title={t('settingsTitle')}>
      <div aria-live="polite">
        {state === 'saved' && savedWhat !== null ? <Notice kind="success" title={t('settingSaved', { what: savedWhat })} testId="settings-saved" /> : null}
        {problem === null ? null : <p className="sr-only">{t('settings_fieldRefused')}</p>}
      </div>

      <div className="card">
        <fieldset className="fieldset">
          <legend className="h2-like">{t('language')}</legend>
          <div className="radio-row">
            {LANGUAGES.map((l) => (
              <label key={l} className="radio">
                <input type="radio" name={`${id}-lang`} value={l} checked={s.language === l} onChange={() => { onLanguage(l); }} />
                <span lang={l}>{l === 'en' ? 'English' : '简体中文'}</span>
              </label>
            ))}
          </div>
        </fieldset>
      </div>

      {stationOnly ? <Notice kind="info" title={t('settings_stationOnly')} testId="settings-station-only" /> : null}

      <AgentLinkSettings onSaved={onSaved} />

      {stationOnly ? null : (
        <>
          <NumberSetting
            title={t('autoLock')}
            label={t('autoLockMinutes')}
            initial={s.autoLockMinutes}
            min={0}
            max={1440}
            help={t('autoLockHelp')}
            error={problemOf('autoLockMinutes')}
            onSave={(n) => void save({ autoLockMinutes: n }, t('autoLock'), 'autoLockMinutes')}
            onOutOfRange={() => { outOfRange('errMinutesRange', 'autoLockMinutes'); }}
          />

          <NumberSetting
            title={t('coolingDays')}
            label={t('coolingDaysLabel')}
            initial={s.deletionCoolingDays}
            min={1}
            max={365}
            help={t('coolingHelp')}
            error={problemOf('deletionCoolingDays')}
            onSave={(n) => void save({ deletionCoolingDays: n }, t('coolingDays'), 'deletionCoolingDays')}
            onOutOfRange={() => { outOfRange('errDaysRange', 'deletionCoolingDays'); }}
          />

          <NumberSetting
            title={t('recoveryPolicy')}
            label={t('policyMinExpiry')}
            initial={s.recoveryMinExpiryMinutes}
            min={0}
            max={10080}
            help={t('policyHelp')}
            error={problemOf('recoveryMinExpiryMinutes')}
            onSave={(n) => void save({ recoveryMinExpiryMinutes: n }, t('recoveryPolicy'), 'recoveryMinExpiryMinutes')}
            onOutOfRange={() => { outOfRange('errPolicyMinutesRange', 'recoveryMinExpiryMinutes'); }}
            testId="recovery-policy"
            extra={(helpId) => (
              <>
                <div className="check">
                  <input
                    id={`${id}-extonly`}
                    type="checkbox"
                    checked={externalOnly}
                    onChange={(e) => {
                      setExternalOnly(e.target.checked);
                      void save({ recoveryExpectMode: e.target.checked ? 'external-only' : 'any' }, t('recoveryPolicy'), 'recoveryExpectMode');
                    }}
                    {...fieldAria(helpId, `${id}-extonly-err`, problemOf('recoveryExpectMode'))}
                  />
                  <label htmlFor={`${id}-extonly`}>{t('policyExternalOnly')}</label>
                </div>
                <FieldRefusal id={`${id}-extonly-err`} error={problemOf('recoveryExpectMode')} />
              </>
            )}
          />

          <VaultBackupCard place="settings" />
          <CardAgain />
          <ChangePassphrase />
        </>
      )}

      {info === null ? null : (
        <p className="muted about">
          {t('about', { version: info.version, protocol: info.protocolVersion, platform: info.platform })}
        </p>
      )}
    </Screen>
  );
}

/** A field's refusal under it, or nothing. */
function FieldRefusal({ id, error }: { id: string; error: IpcError | null }) {
  return error === null ? null : <FieldProblem id={id} error={error} />;
}

function CardAgain() {
  const { t } = useI18n();
  const [card, setCard] = useState<ResponseOf<'vault:card'> | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const show = async (): Promise<void> => {
    const r = await custos().vault.card();
    if (r.ok) setCard(r.value);
    else setProblem(r.error);
  };
  const save = async (): Promise<void> => {
    if (card === null) return;
    const r = await custos().files.save({ file: card.card });
    if (!r.ok) setProblem(r.error);
    else if (r.value.saved) setSaved(r.value.name ?? card.card.name);
  };
  const first = card?.qr.svgs[0];
  return (
    <div className="card">
      <h2>{t('enrollmentCard')}</h2>
      <p className="help">{t('enrollmentCardHelp')}</p>
      {card === null ? (
        <button type="button" className="btn" onClick={() => void show()}>
          {t('showEnrollmentCard')}
        </button>
      ) : (
        <div className="enroll">
          <div>
            <ComparisonCode code={card.code} label={t('yourCode')} />
            <button type="button" className="btn" onClick={() => void save()}>
              {t('saveCardFile')}
            </button>
            {saved === null ? null : <p className="success-text">{t('savedAs', { name: saved })}</p>}
          </div>
          {first === undefined ? null : <QrImage svg={first} alt={t('enrollmentQrAlt')} className="qr-small" />}
        </div>
      )}
      {problem === null ? null : <Problem error={problem} />}
    </div>
  );
}

function ChangePassphrase() {
  const { t } = useI18n();
  const id = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [done, setDone] = useState(false);
  const [problem, setProblem] = useState<IpcError | null>(null);
  // Main's policy (zxcvbn at the vault's KDF cost) must accept it: vault:changePassphrase refuses it otherwise.
  const [acceptable, setAcceptable] = useState(false);
  const onAcceptable = useCallback((a: boolean) => { setAcceptable(a); }, []);
  const ok = current.length > 0 && next === again && acceptable;
  const submit = async (e: SubmitEvent): Promise<void> => {
    e.preventDefault();
    if (!ok) return;
    const r = await custos().vault.changePassphrase({ current, next });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    setDone(true);
    setCurrent('');
    setNext('');
    setAgain('');
  };
  return (
    <form className="card" onSubmit={(e) => void submit(e)} noValidate>
      <h2>{t('changePassphrase')}</h2>
      <div className="grid-3">
        <div className="field">
          <label htmlFor={`${id}-cur`}>{t('currentPassphrase')}</label>
          <input id={`${id}-cur`} type="password" value={current} onChange={(e) => { setCurrent(e.target.value); }} autoComplete="current-password" />
        </div>
        <PassphraseField
          id={`${id}-new`}
          label={t('newPassphrase')}
          value={next}
          onChange={setNext}
          onGenerated={(g) => {
            setNext(g);
            setAgain(g);
          }}
          onAcceptable={onAcceptable}
          testId="new-passphrase"
        />
        <div className="field">
          <label htmlFor={`${id}-again`}>{t('passphraseAgain')}</label>
          <input id={`${id}-again`} type="password" value={again} onChange={(e) => { setAgain(e.target.value); }} autoComplete="new-password" />
          {again.length > 0 && again !== next ? <p className="help help-error">{t('passphraseMismatch')}</p> : null}
        </div>
      </div>
      <button type="submit" className="btn" disabled={!ok}>
        {t('changePassphrase')}
      </button>
      {done ? <Notice kind="success" title={t('passphraseChanged')} /> : null}
      {problem === null ? null : <Problem error={problem} />}
    </form>
  );
}
