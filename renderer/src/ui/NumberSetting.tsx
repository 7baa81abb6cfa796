/**
 * One whole-number setting as a form of its own (Settings: the auto-lock minutes, the deletion
 * cooling days, the recovery policy's shortest expiry): a heading, the field with its range, Save,
 * the refusal under the field (aria-invalid, aria-describedby: the help, then the refusal), and the
 * help. A value that is not a whole number within min..max is not sent: `onOutOfRange` says so at
 * the field. `extra` adds controls between the refusal and the help (given the help's id to point at).
 */
import { useId, useState, type ReactNode, type SubmitEvent } from 'react';
import type { IpcError } from '../../../shared/ipc/contract';
import { fieldAria, FieldProblem } from './AgentLink';
import { useI18n } from './i18n-context';

interface Props {
  readonly title: string;
  readonly label: string;
  /** The saved value, shown in the field at first. */
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  readonly help: string;
  /** The field's refusal (the window's range check or main's), or null. */
  readonly error: IpcError | null;
  /** A whole number within min..max was submitted. */
  readonly onSave: (n: number) => void;
  /** Anything else was submitted (empty, not whole, out of range). */
  readonly onOutOfRange: () => void;
  readonly testId?: string;
  readonly extra?: (helpId: string) => ReactNode;
}

export function NumberSetting({ title, label, initial, min, max, help, error, onSave, onOutOfRange, testId, extra }: Props) {
  const { t } = useI18n();
  const id = useId();
  const [value, setValue] = useState(String(initial));
  const [inputId, helpId, errorId] = [`${id}-input`, `${id}-help`, `${id}-err`];
  const submit = (e: SubmitEvent): void => {
    e.preventDefault();
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) onOutOfRange();
    else onSave(n);
  };
  return (
    <form className="card" onSubmit={submit} data-testid={testId} noValidate>
      <h2>{title}</h2>
      <div className="row row-fields">
        <div className="field field-narrow">
          <label htmlFor={inputId}>{label}</label>
          <input id={inputId} type="number" min={min} max={max} value={value} onChange={(e) => { setValue(e.target.value); }} {...fieldAria(helpId, errorId, error)} />
        </div>
        <button type="submit" className="btn">
          {t('save')}
        </button>
      </div>
      {error === null ? null : <FieldProblem id={errorId} error={error} />}
      {extra?.(helpId)}
      <p className="help" id={helpId}>
        {help}
      </p>
    </form>
  );
}
