/**
 * Pieces of a long table whose rows live in the main process (issue 10: the Shares and Audit screens
 * at 100,000 shares): a pager over `offset`/`limit`, a column header that sorts, a search box that
 * waits for the typing to pause, and keyboard moves between rows (↑ ↓ Home End; Page Up / Page Down
 * turn the page).
 */
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useI18n } from './i18n-context';

export type SortDir = 'asc' | 'desc';

/** Rows `offset + 1 … offset + shown` of `matched`, and buttons to the first, previous, next and last page. */
export function Pager({ offset, limit, shown, matched, onOffset, testId }: { offset: number; limit: number; shown: number; matched: number; onOffset: (offset: number) => void; testId?: string }) {
  const { t } = useI18n();
  if (matched <= limit && offset === 0) return null;
  const last = Math.max(0, Math.floor((matched - 1) / limit) * limit);
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.floor(last / limit) + 1;
  return (
    <nav className="pager" aria-label={t('pager_label')} data-testid={testId}>
      <span className="pager-status" aria-live="polite">
        {t('pager_rows', { from: shown === 0 ? 0 : offset + 1, to: offset + shown, total: matched, page, pages })}
      </span>
      <span className="pager-buttons">
        <button type="button" className="btn btn-small btn-quiet" disabled={offset === 0} onClick={() => { onOffset(0); }}>
          {t('pager_first')}
        </button>
        <button type="button" className="btn btn-small" disabled={offset === 0} onClick={() => { onOffset(Math.max(0, offset - limit)); }}>
          {t('pager_previous')}
        </button>
        <button type="button" className="btn btn-small" disabled={offset >= last} onClick={() => { onOffset(Math.min(last, offset + limit)); }}>
          {t('pager_next')}
        </button>
        <button type="button" className="btn btn-small btn-quiet" disabled={offset >= last} onClick={() => { onOffset(last); }}>
          {t('pager_last')}
        </button>
      </span>
    </nav>
  );
}

/** A column header that sorts by its column: a button, `aria-sort` on the header cell. */
export function SortTh<K extends string>({ by, label, sort, onSort, className }: { by: K; label: string; sort: { by: K; dir: SortDir }; onSort: (s: { by: K; dir: SortDir }) => void; className?: string }) {
  const { t } = useI18n();
  const active = sort.by === by;
  const next: SortDir = active && sort.dir === 'asc' ? 'desc' : 'asc';
  return (
    <th scope="col" className={className} aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="th-sort" onClick={() => { onSort({ by, dir: next }); }} title={t(next === 'asc' ? 'sort_ascending' : 'sort_descending', { column: label })}>
        {label}
        <span className="th-sort-mark" aria-hidden="true">
          {active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}

/** A search box: `onSearch` once the typing has paused (`delayMs`) or on Enter. */
export function SearchBox({ id, label, placeholder, value, onSearch, delayMs = 250 }: { id: string; label: string; placeholder: string; value: string; onSearch: (q: string) => void; delayMs?: number }) {
  const [text, setText] = useState(value);
  const latest = useRef(onSearch);
  latest.current = onSearch;
  useEffect(() => {
    setText(value);
  }, [value]);
  useEffect(() => {
    if (text === value) return undefined;
    const timer = setTimeout(() => { latest.current(text); }, delayMs);
    return () => { clearTimeout(timer); };
  }, [text, value, delayMs]);
  return (
    <div className="field field-inline field-search">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="search"
        value={text}
        placeholder={placeholder}
        maxLength={200}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => { setText(e.target.value); }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            latest.current(text);
          }
        }}
      />
    </div>
  );
}

/**
 * Keyboard moves inside a table body whose rows each hold one focusable element (`selector`):
 * ↑/↓ the row above or below, Home/End the first or last row, Page Up/Page Down the page before or
 * after: `onPage(delta)` answers the new page's offset (null: no such page), and once that page has
 * rendered (`afterRender(offset)` from a layout effect) its first or last row gets the focus.
 */
export function useRowKeys(selector: string, onPage: (delta: -1 | 1) => number | null) {
  const body = useRef<HTMLTableSectionElement>(null);
  const pending = useRef<{ readonly offset: number; readonly row: 'first' | 'last' } | null>(null);
  const controls = (): HTMLElement[] => (body.current === null ? [] : [...body.current.querySelectorAll<HTMLElement>(selector)]);
  /** Call from a layout effect with the offset of the page on screen. */
  const afterRender = (offset: number): void => {
    const want = pending.current;
    if (want?.offset !== offset) return;
    const all = controls();
    const target = want.row === 'first' ? all[0] : all.at(-1);
    if (target === undefined) return;
    pending.current = null;
    target.focus();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTableSectionElement>): void => {
    const all = controls();
    const i = all.findIndex((el) => el === document.activeElement);
    if (i < 0) return;
    let target: HTMLElement | undefined;
    if (e.key === 'ArrowDown') target = all[i + 1];
    else if (e.key === 'ArrowUp') target = all[i - 1];
    else if (e.key === 'Home') target = all[0];
    else if (e.key === 'End') target = all.at(-1);
    else if (e.key === 'PageDown' || e.key === 'PageUp') {
      const delta = e.key === 'PageDown' ? 1 : -1;
      const offset = onPage(delta);
      if (offset !== null) pending.current = { offset, row: delta === 1 ? 'first' : 'last' };
      else target = delta === 1 ? all.at(-1) : all[0];
    } else return;
    e.preventDefault();
    target?.focus();
  };
  return { body, onKeyDown, afterRender };
}

/** A row of filters above a table (the form element the screens share). */
export function FilterBar({ label, children }: { label: string; children: ReactNode }) {
  return (
    <form className="filters" role="search" aria-label={label} onSubmit={(e) => { e.preventDefault(); }}>
      {children}
    </form>
  );
}
