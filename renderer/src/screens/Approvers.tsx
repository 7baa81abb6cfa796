/**
 * The approvers a custodian trusts (part of the Trust screen, issue 12): open an approver's card,
 * compare its 24-digit code with the approver over another channel, type what they read out, record
 * whom to call back, pin. Also the call-back contact for the pinned agent. Recovery requests count
 * only approvals by the approvers pinned here (Recovery.tsx shows each approval's verdict).
 */
import { useCallback, useEffect, useId, useState } from 'react';
import type { FileIn, IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { oneMessage, type Given } from '../lib/messages';
import { ComparisonCode, DateText, Facts, Hex, Notice, Problem } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { InputZone } from '../ui/InputZone';

type List = ResponseOf<'approvers:list'>;
type Preview = ResponseOf<'approvers:preview'>;

const digits = (s: string): string => s.replace(/[^0-9]/g, '');

/** Name and phone of whom to call back; both or neither. */
export function ContactFields({ name, reach, onName, onReach, testId }: { name: string; reach: string; onName: (s: string) => void; onReach: (s: string) => void; testId?: string }) {
  const { t } = useI18n();
  const id = useId();
  return (
    <fieldset className="fieldset contact-fields" data-testid={testId}>
      <legend className="h3-like">{t('contactTitle')}</legend>
      <div className="row row-fields">
        <div className="field field-grow">
          <label htmlFor={`${id}-name`}>{t('contactName')}</label>
          <input id={`${id}-name`} value={name} maxLength={100} onChange={(e) => { onName(e.target.value); }} autoComplete="off" />
        </div>
        <div className="field field-grow">
          <label htmlFor={`${id}-reach`}>{t('contactReach')}</label>
          <input id={`${id}-reach`} value={reach} maxLength={100} onChange={(e) => { onReach(e.target.value); }} autoComplete="off" />
        </div>
      </div>
      <p className="help">{t('contactHelp')}</p>
    </fieldset>
  );
}

/** The contact typed, or undefined when both fields are empty. */
export const contactOf = (name: string, reach: string): { name: string; reach: string } | undefined =>
  name.trim() === '' && reach.trim() === '' ? undefined : { name: name.trim(), reach: reach.trim() };

export function Approvers() {
  const { t } = useI18n();
  const id = useId();
  const [list, setList] = useState<List | null>(null);
  const [card, setCard] = useState<FileIn | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [typed, setTyped] = useState('');
  const [name, setName] = useState('');
  const [reach, setReach] = useState('');
  const [busy, setBusy] = useState(false);
  const [pinned, setPinned] = useState<string | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);

  const load = useCallback(async (): Promise<void> => {
    const r = await custos().approvers.list();
    if (r.ok) setList(r.value);
    else setProblem(r.error);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const open = async (given: Given): Promise<void> => {
    setProblem(null);
    setPinned(null);
    const one = await oneMessage(given);
    if (!one.ok) {
      setProblem(one.error);
      return;
    }
    const r = await custos().approvers.preview({ card: one.file });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setCard(one.file);
    setPreview(r.value);
    setTyped('');
    setName('');
    setReach('');
  };

  const contact = contactOf(name, reach);
  const contactOk = contact === undefined || (contact.name !== '' && contact.reach !== '');

  const pin = async (): Promise<void> => {
    if (card === null || preview === null) return;
    setBusy(true);
    setProblem(null);
    const r = await custos().approvers.pin({ card, confirmCode: typed, ...(contact === undefined ? {} : { contact }) });
    setBusy(false);
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setPinned(r.value.name);
    setCard(null);
    setPreview(null);
    await load();
  };

  const remove = async (fingerprint: string): Promise<void> => {
    setProblem(null);
    const r = await custos().approvers.remove({ fingerprint });
    if (!r.ok) setProblem(r.error);
    await load();
  };

  const matches = preview !== null && digits(typed) === digits(preview.code);
  const complete = digits(typed).length >= 24;

  return (
    <div className="card" data-testid="approvers" data-state={preview === null ? (list === null ? 'loading' : 'list') : 'preview'}>
      <h2>{t('approversTitle')}</h2>
      <p className="help">{t('approversLead')}</p>
      {pinned === null ? null : <Notice kind="success" title={t('approverPinnedTitle', { name: pinned })} testId="approver-pinned" />}
      {list !== null && list.approvers.length === 0 ? <Notice kind="warning" title={t('approversNone')} testId="approvers-none" /> : null}
      {list !== null && list.approvers.length > 0 ? (
        <ul className="approver-list" data-testid="approver-list">
          {list.approvers.map((a) => (
            <li key={a.fingerprint} data-status={a.status}>
              <span className="approver">{a.name}</span>
              <span className="code-inline">{a.code}</span>
              <span className="muted">
                {t(`approverVia_${a.via}`)} · <DateText seconds={a.pinnedAt} />
                {a.status === 'disabled' ? ` · ${t('approverDisabled')}` : ''}
              </span>
              <span className="contact">{a.contact === undefined ? t('contactNone') : t('recCallBack', { name: a.contact.name, reach: a.contact.reach })}</span>
              <ApproverContactEdit fingerprint={a.fingerprint} name={a.name} contact={a.contact} onSaved={() => void load()} />
              <button type="button" className="btn btn-quiet btn-small" onClick={() => void remove(a.fingerprint)}>
                {t('removeApprover')}
              </button>
            </li>
          ))}
        </ul>
      ) : null}

      {list !== null && list.approvers.some((a) => a.via === 'roster' && a.contact === undefined) ? (
        <Notice kind="warning" title={t('approverContact_rosterHint')} testId="roster-contact-hint" />
      ) : null}
      {preview === null ? (
        <InputZone purpose="any" multiple={false} hint={t('dropApproverCard')} camera="single" accept={['approver-card']} onGiven={(g) => void open(g)} testId="approver-card-input" />
      ) : (
        <div className="sub-card" data-testid="approver-preview">
          <Facts
            rows={[
              [t('approverName'), preview.name],
              [t('cardCreated'), <DateText key="d" seconds={preview.createdAt} />],
              [t('fingerprint'), <Hex key="f" value={preview.fingerprint} chars={24} />],
            ]}
          />
          <ComparisonCode code={preview.code} label={t('approverCode')} testId="approver-code" />
          <ol className="steps">
            <li>{t('compareApproverStep1')}</li>
            <li>{t('compareApproverStep2')}</li>
          </ol>
          <div className="field">
            <label htmlFor={`${id}-code`}>{t('typeApproverCode')}</label>
            <input id={`${id}-code`} className="input-code" value={typed} onChange={(e) => { setTyped(e.target.value); }} inputMode="numeric" autoComplete="off" spellCheck={false} placeholder="0000 0000 0000 0000 0000 0000" />
            <p className={matches ? 'help help-ok' : complete ? 'help help-error' : 'help'} aria-live="polite" data-testid="approver-code-match" data-match={matches ? 'yes' : complete ? 'no' : 'incomplete'}>
              {matches ? t('codeMatches') : complete ? t('codeDiffers') : t('codeTypeAll')}
            </p>
          </div>
          <ContactFields name={name} reach={reach} onName={setName} onReach={setReach} testId="approver-contact" />
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={!matches || !contactOk || busy} onClick={() => void pin()}>
              {t('pinApprover')}
            </button>
            <button
              type="button"
              className="btn btn-quiet"
              onClick={() => {
                setPreview(null);
                setCard(null);
                setProblem(null);
              }}
            >
              {t('cancel')}
            </button>
          </div>
        </div>
      )}
      {problem === null ? null : <Problem error={problem} />}
      <RosterPin roster={list?.roster ?? null} onPinned={() => void load()} />
    </div>
  );
}

type ApproverView = List['approvers'][number];

/**
 * Issue 12 (H14): record or change whom to call back about a pinned approver, for the ones pinned
 * from the agent's roster above all (a roster pins several at once, without a contact each).
 */
function ApproverContactEdit({ fingerprint, name: approver, contact, onSaved }: { fingerprint: string; name: string; contact: ApproverView['contact']; onSaved: () => void }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(contact?.name ?? '');
  const [reach, setReach] = useState(contact?.reach ?? '');
  const [problem, setProblem] = useState<IpcError | null>(null);
  const typed = contactOf(name, reach);
  const save = async (): Promise<void> => {
    if (typed === undefined) return;
    setProblem(null);
    const r = await custos().approvers.setContact({ fingerprint, contact: typed });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setOpen(false);
    onSaved();
  };
  if (!open) {
    return (
      <button
        type="button"
        className="btn btn-quiet btn-small"
        data-testid="approver-contact-edit"
        onClick={() => {
          setName(contact?.name ?? '');
          setReach(contact?.reach ?? '');
          setOpen(true);
        }}
      >
        {contact === undefined ? t('approverContact_add') : t('approverContact_change')}
      </button>
    );
  }
  return (
    <div className="sub-card approver-contact-edit" data-testid="approver-contact-form">
      <p className="help">{t('approverContact_for', { name: approver })}</p>
      <ContactFields name={name} reach={reach} onName={setName} onReach={setReach} />
      <div className="row">
        <button type="button" className="btn btn-primary btn-small" disabled={typed === undefined || typed.name === '' || typed.reach === ''} onClick={() => void save()}>
          {t('saveContact')}
        </button>
        <button type="button" className="btn btn-quiet btn-small" onClick={() => { setOpen(false); }}>
          {t('cancel')}
        </button>
      </div>
      {problem === null ? null : <Problem error={problem} />}
    </div>
  );
}

type RosterPreview = ResponseOf<'approvers:previewRoster'>;

/** The agent-signed roster: opened, its approvers shown, pinned (the first with the agent's code). */
function RosterPin({ roster, onPinned }: { roster: List['roster']; onPinned: () => void }) {
  const { t } = useI18n();
  const id = useId();
  const [file, setFile] = useState<FileIn | null>(null);
  const [preview, setPreview] = useState<RosterPreview | null>(null);
  const [typed, setTyped] = useState('');
  const [done, setDone] = useState<ResponseOf<'approvers:pinRoster'> | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const open = async (given: Given): Promise<void> => {
    setProblem(null);
    setDone(null);
    const one = await oneMessage(given);
    if (!one.ok) {
      setProblem(one.error);
      return;
    }
    const r = await custos().approvers.previewRoster({ roster: one.file });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setFile(one.file);
    setPreview(r.value);
    setTyped('');
  };
  const first = preview !== null && preview.pinnedVersion === null;
  const matches = preview !== null && (!first || digits(typed) === digits(preview.agentCode));
  const pin = async (): Promise<void> => {
    if (file === null) return;
    const r = await custos().approvers.pinRoster({ roster: file, ...(first ? { confirmCode: typed } : {}) });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    setDone(r.value);
    setPreview(null);
    setFile(null);
    onPinned();
  };
  return (
    <div className="sub-card" data-testid="roster" data-state={preview === null ? 'idle' : 'preview'}>
      <h3>{t('rosterTitle')}</h3>
      <p className="help">{roster === null ? t('rosterNone') : t('rosterPinned', { version: roster.version })}</p>
      {done === null ? null : (
        <Notice kind={done.succession === 'agent-only' ? 'warning' : 'success'} title={t('rosterPinnedTitle', { version: done.version })} testId="roster-pinned">
          <p>{t(`rosterSuccession_${done.succession}`)}</p>
        </Notice>
      )}
      {preview === null ? (
        <InputZone purpose="any" multiple={false} hint={t('dropRoster')} accept={['approver-roster']} onGiven={(g) => void open(g)} testId="roster-input" />
      ) : (
        <>
          <p>{t('rosterVersionOf', { version: preview.version, n: preview.approvers.length })}</p>
          <ul className="approver-list">
            {preview.approvers.map((a) => (
              <li key={a.code} data-status={a.status}>
                <span className="approver">{a.name}</span>
                <span className="code-inline">{a.code}</span>
                {a.status === 'disabled' ? <span className="muted">{t('approverDisabled')}</span> : null}
              </li>
            ))}
          </ul>
          {first ? (
            <div className="field">
              <label htmlFor={`${id}-code`}>{t('rosterTypeAgentCode')}</label>
              <input id={`${id}-code`} className="input-code" value={typed} onChange={(e) => { setTyped(e.target.value); }} inputMode="numeric" autoComplete="off" spellCheck={false} placeholder="0000 0000 0000 0000 0000 0000" />
            </div>
          ) : null}
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={!matches} onClick={() => void pin()}>
              {t('pinRoster')}
            </button>
            <button type="button" className="btn btn-quiet" onClick={() => { setPreview(null); setFile(null); }}>
              {t('cancel')}
            </button>
          </div>
        </>
      )}
      {problem === null ? null : <Problem error={problem} />}
    </div>
  );
}

/** The pinned agent's call-back contact: shown, and set or changed. */
export function AgentContact() {
  const { t } = useI18n();
  const [current, setCurrent] = useState<List['agentContact'] | undefined>(undefined);
  const [name, setName] = useState('');
  const [reach, setReach] = useState('');
  const [problem, setProblem] = useState<IpcError | null>(null);
  const load = useCallback(async (): Promise<void> => {
    const r = await custos().approvers.list();
    if (r.ok) setCurrent(r.value.agentContact);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const contact = contactOf(name, reach);
  const save = async (): Promise<void> => {
    if (contact === undefined) return;
    const r = await custos().approvers.setAgentContact({ contact });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setProblem(null);
    setName('');
    setReach('');
    await load();
  };
  return (
    <div className="sub-card" data-testid="agent-contact">
      <p className="contact">
        <span data-testid="agent-contact-now">{current === undefined ? '' : current === null ? t('contactNone') : t('recCallBack', { name: current.name, reach: current.reach })}</span>
      </p>
      <ContactFields name={name} reach={reach} onName={setName} onReach={setReach} />
      <button type="button" className="btn" disabled={contact === undefined || contact.name === '' || contact.reach === ''} onClick={() => void save()}>
        {t('saveContact')}
      </button>
      {problem === null ? null : <Problem error={problem} />}
    </div>
  );
}
