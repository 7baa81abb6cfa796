/**
 * A new passphrase's field (first run and the change-passphrase form, issue 13): a show/hide toggle,
 * a "generate" button (diceware from the EFF long list, vault:generatePassphrase), the strength meter
 * with the reasons and the guessing time at the vault's KDF cost (main's estimate, lib/strength.ts),
 * and a Caps Lock warning (KeyboardEvent.getModifierState). A refused passphrase is marked invalid at
 * the field; the form's submit stays disabled until `onCheck` reports it acceptable.
 */
import { useEffect, useState, type KeyboardEvent } from 'react';
import type { IpcError } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { guessTimeOf, levelOf, reasonsOf, usePassphraseCheck } from '../lib/strength';
import { Problem } from './core';
import { useI18n } from './i18n-context';

export function PassphraseField({
  id,
  label,
  value,
  onChange,
  onGenerated,
  onAcceptable,
  name,
  disabled = false,
  testId,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (next: string) => void;
  /** Called with a generated passphrase (the form fills its "again" field with it too). */
  onGenerated: (passphrase: string) => void;
  /** Whether main's policy accepts the current value. */
  onAcceptable: (ok: boolean) => void;
  /** The person's name: counts as known to an attacker. */
  name?: string;
  disabled?: boolean;
  testId?: string;
}) {
  const { t, lang } = useI18n();
  const [shown, setShown] = useState(false);
  const [caps, setCaps] = useState(false);
  const [generated, setGenerated] = useState<string | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const check = usePassphraseCheck(value, name);
  const level = levelOf(value, check);
  const reasons = reasonsOf(value, check);
  const ok = level === 'fair' || level === 'strong';
  useEffect(() => {
    onAcceptable(ok);
  }, [ok, onAcceptable]);
  const time = check === null ? null : guessTimeOf(lang, check.guessSeconds);
  const onKey = (e: KeyboardEvent<HTMLInputElement>): void => {
    setCaps(e.getModifierState('CapsLock'));
  };
  const generate = async (): Promise<void> => {
    const r = await custos().vault.generatePassphrase({});
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    setShown(true);
    setGenerated(r.value.passphrase);
    onGenerated(r.value.passphrase);
  };
  const invalid = level === 'too-short' || level === 'weak';
  return (
    <div className="field passphrase-field" data-testid={testId}>
      <label htmlFor={id}>{label}</label>
      <div className="passphrase-row">
        <input
          id={id}
          type={shown ? 'text' : 'password'}
          value={value}
          onChange={(e) => {
            setGenerated(null);
            onChange(e.target.value);
          }}
          onKeyDown={onKey}
          onKeyUp={onKey}
          onBlur={() => { setCaps(false); }}
          autoComplete="new-password"
          spellCheck={false}
          disabled={disabled}
          aria-invalid={invalid}
          aria-describedby={`${id}-strength ${id}-caps`}
        />
        <button type="button" className="btn btn-small" aria-pressed={shown} onClick={() => { setShown(!shown); }} disabled={disabled} data-testid="passphrase-toggle">
          {shown ? t('pass_hide') : t('pass_show')}
        </button>
        <button type="button" className="btn btn-small" onClick={() => void generate()} disabled={disabled} data-testid="passphrase-generate">
          {t('pass_generate')}
        </button>
      </div>
      <p className="help help-error" id={`${id}-caps`} role="status" data-testid="caps-lock" hidden={!caps}>
        {caps ? t('pass_capsLock') : ''}
      </p>
      {generated === null ? null : (
        <p className="help" data-testid="passphrase-generated">
          {t('pass_generatedHelp')}
        </p>
      )}
      <div className={`strength strength-${level}`} id={`${id}-strength`} data-strength={level} aria-live="polite">
        <span className="strength-meter" aria-hidden="true">
          <span />
          <span />
          <span />
        </span>
        <span className="strength-text">
          <span className="strength-verdict">{t(`pass_level_${level}`)}</span>
          {reasons.length === 0 ? null : (
            <span className="strength-reasons" data-testid="strength-reasons">
              {reasons.map((r) => t(`pass_reason_${r}`, { years: 100 })).join(' ')}
            </span>
          )}
          {time === null && check !== null ? <span className="strength-time">{t('pass_guessInstant')}</span> : null}
          {time === null ? null : <span className="strength-time" data-testid="guess-time">{t('pass_guessTime', { time })}</span>}
        </span>
      </div>
      {problem === null ? null : <Problem error={problem} />}
    </div>
  );
}
