/**
 * The passphrase a person already has (unlock, verifying a backup, restoring one), as opposed to a
 * new one (PassphraseField, with its generator and strength meter): a password input with an
 * optional show/hide toggle, marked invalid after a wrong try, and a help line under it.
 *
 * `useRetryWait` is the wait main enforces after wrong passphrases (`details.delaySeconds`), as a
 * countdown the form shows and its submit button waits out; it ticks only while there is a wait.
 */
import { useEffect, useState, type ReactNode, type Ref } from 'react';
import { useI18n } from './i18n-context';

export interface RetryWait {
  /** Milliseconds left, 0 when the next try may go. */
  readonly waitMs: number;
  readonly counting: boolean;
  /** Whole seconds left, for "try again in {s}". */
  readonly seconds: number;
  /** Starts the wait main named (seconds). */
  readonly start: (delaySeconds: number) => void;
}

export function useRetryWait(initialMs = 0): RetryWait {
  const [deadline, setDeadline] = useState(() => Date.now() + initialMs);
  const [now, setNow] = useState(() => Date.now());
  const waitMs = Math.max(0, deadline - now);
  const counting = waitMs > 0;
  useEffect(() => {
    if (!counting) return undefined;
    const timer = setInterval(() => {
      setNow(Date.now());
    }, 200);
    return () => {
      clearInterval(timer);
    };
  }, [counting]);
  return {
    waitMs,
    counting,
    seconds: Math.ceil(waitMs / 1000),
    start: (delaySeconds: number) => {
      const t = Date.now();
      setDeadline(t + delaySeconds * 1000);
      setNow(t);
    },
  };
}

export function CurrentPassphraseField({
  id,
  label,
  value,
  onChange,
  disabled = false,
  invalid = false,
  toggle = false,
  help,
  helpTestId,
  describedBy,
  inputRef,
  autoFocus = false,
  grow = false,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (next: string) => void;
  disabled?: boolean;
  /** After a wrong try. */
  invalid?: boolean;
  /** A show/hide button beside the input. */
  toggle?: boolean;
  /** The line under the field (its id is `${id}-help`); marked as an error when `invalid`. */
  help?: ReactNode;
  helpTestId?: string;
  /** Another element that describes the field (a status area), besides the help line. */
  describedBy?: string;
  inputRef?: Ref<HTMLInputElement>;
  autoFocus?: boolean;
  /** Takes the row's free width (beside a button). */
  grow?: boolean;
}) {
  const { t } = useI18n();
  const [shown, setShown] = useState(false);
  // Hidden again once the field is emptied (after a try), so it never stays shown by accident.
  useEffect(() => {
    if (value === '') setShown(false);
  }, [value]);
  const described = [help === undefined ? undefined : `${id}-help`, describedBy].filter((x) => x !== undefined).join(' ');
  const input = (
    <input
      ref={inputRef}
      id={id}
      type={shown ? 'text' : 'password'}
      value={value}
      onChange={(e) => {
        onChange(e.target.value);
      }}
      autoComplete="current-password"
      spellCheck={false}
      autoFocus={autoFocus}
      disabled={disabled}
      aria-invalid={invalid}
      aria-describedby={described === '' ? undefined : described}
    />
  );
  return (
    <div className={grow ? 'field field-grow' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {toggle ? (
        <div className="passphrase-row">
          {input}
          <button type="button" className="btn btn-small" aria-pressed={shown} onClick={() => { setShown(!shown); }} disabled={disabled}>
            {shown ? t('pass_hide') : t('pass_show')}
          </button>
        </div>
      ) : (
        input
      )}
      {help === undefined ? null : (
        <p className={invalid ? 'help help-error' : 'help'} id={`${id}-help`} data-testid={helpTestId}>
          {help}
        </p>
      )}
    </div>
  );
}
