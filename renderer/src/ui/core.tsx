/** Small building blocks every screen uses: notices, problems, progress, codes, QR images, hex. */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { EventPayload, IpcError } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useI18n } from './i18n-context';

type Kind = 'info' | 'success' | 'warning' | 'error';

export function Notice({ kind = 'info', title, children, testId }: { kind?: Kind; title?: string; children?: ReactNode; testId?: string }) {
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {title === undefined ? null : <p className="notice-title">{title}</p>}
      {children === undefined ? null : <div className="notice-body">{children}</div>}
    </div>
  );
}

/** A refusal in words, in the current language; the specific English sentence folded away. */
export function Problem({ error, title, testId }: { error: IpcError; title?: string; testId?: string }) {
  const { t, lang } = useI18n();
  const detail = error.detail !== undefined && error.detail !== error.message.en ? error.detail : undefined;
  return (
    <Notice kind="error" title={title ?? error.message[lang]} testId={testId ?? 'problem'}>
      {title === undefined ? null : <p>{error.message[lang]}</p>}
      {detail === undefined ? null : (
        <details className="detail">
          <summary>{t('technicalDetail')}</summary>
          <p>
            <code>{error.code}</code> {detail}
          </p>
        </details>
      )}
    </Notice>
  );
}

/** A sentence for a table cell: the reason in the current language. */
export function Reason({ error }: { error: IpcError }) {
  const { lang } = useI18n();
  return (
    <span className="reason" title={error.detail ?? error.code}>
      {error.message[lang]}
    </span>
  );
}

export function ProgressBar({ done, total, label, testId }: { done: number; total: number; label: string; testId?: string }) {
  const { num } = useI18n();
  const known = total > 0;
  const pct = known ? Math.min(100, Math.round((done / total) * 100)) : 0;
  return (
    <div className="progress-wrap" data-testid={testId}>
      <div className="progress-label">
        <span>{label}</span>
        {known ? (
          <span className="progress-count">
            {num(done)} / {num(total)}
          </span>
        ) : null}
      </div>
      <div
        className={known ? 'progress' : 'progress progress-indeterminate'}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={known ? total : undefined}
        aria-valuenow={known ? done : undefined}
      >
        <div className="progress-fill" style={known ? { width: `${String(pct)}%` } : undefined} />
      </div>
    </div>
  );
}

/** The latest `progress` event of one operation. */
export function useProgress(opId: string | null): EventPayload<'progress'> | null {
  const [p, setP] = useState<EventPayload<'progress'> | null>(null);
  useEffect(() => {
    setP(null);
    if (opId === null) return undefined;
    return custos().events.onProgress((e) => {
      if (e.opId === opId) setP(e);
    });
  }, [opId]);
  return p;
}

/** The 24-digit comparison code in large type, in six groups to read out. */
export function ComparisonCode({ code, label, testId }: { code: string; label: string; testId?: string }) {
  const groups = code.split(' ');
  return (
    <figure className="code-block">
      <figcaption>{label}</figcaption>
      <p className="code-big" data-testid={testId} aria-label={`${label}: ${code}`}>
        {groups.map((g, i) => (
          <span key={i} className="code-group">
            {g}
          </span>
        ))}
      </p>
    </figure>
  );
}

export const svgSrc = (svg: string): string => `data:image/svg+xml;utf8,${encodeURIComponent(svg)}`;

export function QrImage({ svg, alt, className, testId }: { svg: string; alt: string; className?: string; testId?: string }) {
  return <img className={`qr ${className ?? ''}`} src={svgSrc(svg)} alt={alt} data-testid={testId} />;
}

/** A long hex id shortened, the whole in a tooltip and for screen readers. */
export function Hex({ value, chars = 12 }: { value: string; chars?: number }) {
  const short = value.length > chars ? `${value.slice(0, chars)}…` : value;
  return (
    <code className="hex" title={value}>
      {short}
    </code>
  );
}

export function DateText({ seconds }: { seconds: number }) {
  const { date } = useI18n();
  return <time dateTime={new Date(seconds * 1000).toISOString()}>{date(seconds)}</time>;
}

/** A screen: named for tests (`data-screen`, `data-state`), its heading focused when it opens. */
export function Screen({ name, state, title, lead, actions, children }: { name: string; state: string; title: string; lead?: ReactNode; actions?: ReactNode; children?: ReactNode }) {
  const h = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    h.current?.focus();
  }, [name]);
  return (
    <section className="screen" data-screen={name} data-state={state} aria-labelledby={`h-${name}`}>
      <header className="screen-head">
        <div className="screen-title">
          <h1 id={`h-${name}`} ref={h} tabIndex={-1}>
            {title}
          </h1>
          {lead === undefined ? null : <p className="lead">{lead}</p>}
        </div>
        {actions === undefined ? null : <div className="screen-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

/** Key/value facts, read top to bottom. */
export function Facts({ rows, testId }: { rows: readonly (readonly [string, ReactNode])[]; testId?: string }) {
  return (
    <dl className="facts" data-testid={testId}>
      {rows.map(([k, v]) => (
        <div className="fact" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Busy({ label }: { label: string }) {
  return (
    <p className="busy" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}
