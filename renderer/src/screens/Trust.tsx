/**
 * Trust: import the agent's card, compare its 24-digit code with ops over another channel, type
 * the code they read out, pin. Later, a replacement agent key is accepted only through a notice
 * signed by the pinned key. The call-back contact for the agent is recorded when pinning, and the
 * approvers are pinned below the agent (Approvers.tsx, issue 12).
 */
import { useCallback, useEffect, useId, useState } from 'react';
import type { FileIn, IpcError, ResponseOf } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { useApp } from '../app-context';
import { oneMessage, type Given } from '../lib/messages';
import { ComparisonCode, DateText, Facts, Hex, Notice, Problem, Screen } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { InputZone } from '../ui/InputZone';
import { AgentContact, Approvers, ContactFields, contactOf } from './Approvers';

type TrustStatus = ResponseOf<'trust:status'>;
type Preview = ResponseOf<'trust:previewAgent'>;
type State = 'loading' | 'none' | 'preview' | 'pinning' | 'pinned' | 'rotated';

const digits = (s: string): string => s.replace(/[^0-9]/g, '');

export function Trust() {
  const { t } = useI18n();
  const app = useApp();
  const [trust, setTrust] = useState<TrustStatus | null>(null);
  const [state, setState] = useState<State>('loading');
  const [card, setCard] = useState<FileIn | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [typed, setTyped] = useState('');
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [rotation, setRotation] = useState<ResponseOf<'trust:rotate'> | null>(null);
  const [contactName, setContactName] = useState('');
  const [contactReach, setContactReach] = useState('');
  const id = useId();

  const load = useCallback(async (): Promise<void> => {
    const r = await custos().trust.status();
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setTrust(r.value);
    setState(r.value.agent === null ? 'none' : 'pinned');
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const openCard = async (given: Given): Promise<void> => {
    setProblem(null);
    const one = await oneMessage(given);
    if (!one.ok) {
      setProblem(one.error);
      return;
    }
    const r = await custos().trust.previewAgent({ card: one.file });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setCard(one.file);
    setPreview(r.value);
    setTyped('');
    setState('preview');
  };

  const pin = async (): Promise<void> => {
    if (card === null) return;
    setState('pinning');
    setProblem(null);
    const r = await custos().trust.pin({ card, confirmCode: typed });
    if (!r.ok) {
      setProblem(r.error);
      setState('preview');
      return;
    }
    const contact = contactOf(contactName, contactReach);
    if (contact !== undefined) {
      const c = await custos().approvers.setAgentContact({ contact });
      if (!c.ok) setProblem(c.error);
    }
    setContactName('');
    setContactReach('');
    setCard(null);
    setPreview(null);
    await load();
    await app.refresh();
  };

  const rotate = async (given: Given): Promise<void> => {
    setProblem(null);
    const one = await oneMessage(given);
    if (!one.ok) {
      setProblem(one.error);
      return;
    }
    const r = await custos().trust.rotate({ notice: one.file });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    setRotation(r.value);
    await load();
    setState('rotated');
    await app.refresh();
  };

  const matches = preview !== null && digits(typed) === digits(preview.code);
  const complete = digits(typed).length >= 24;

  return (
    <Screen name="trust" state={state} title={t('trustTitle')} lead={t('trustLead')}>
      {state === 'none' ? (
        <>
          <Notice kind="info" title={t('trustNoneTitle')}>
            <p>{t('trustNoneBody')}</p>
          </Notice>
          <InputZone purpose="agent-card" multiple={false} hint={t('dropAgentCard')} camera="single" accept={['agent-card']} onGiven={(g) => void openCard(g)} testId="agent-card-input" />
        </>
      ) : null}

      {(state === 'preview' || state === 'pinning') && preview !== null ? (
        <div className="card" data-testid="agent-preview">
          <h2>{t('compareTitle')}</h2>
          <Facts
            rows={[
              [t('agentName'), preview.name],
              [t('cardCreated'), <DateText key="d" seconds={preview.createdAt} />],
              [t('fingerprint'), <Hex key="f" value={preview.fingerprint} chars={24} />],
            ]}
          />
          <ComparisonCode code={preview.code} label={t('agentCode')} testId="agent-code" />
          <ol className="steps">
            <li>{t('compareStep1')}</li>
            <li>{t('compareStep2')}</li>
            <li>{t('compareStep3')}</li>
          </ol>
          <div className="field">
            <label htmlFor={`${id}-code`}>{t('typeCode')}</label>
            <input id={`${id}-code`} className="input-code" value={typed} onChange={(e) => { setTyped(e.target.value); }} inputMode="numeric" autoComplete="off" spellCheck={false} placeholder="0000 0000 0000 0000 0000 0000" aria-describedby={`${id}-code-state`} />
            <p id={`${id}-code-state`} className={matches ? 'help help-ok' : complete ? 'help help-error' : 'help'} aria-live="polite" data-testid="code-match" data-match={matches ? 'yes' : complete ? 'no' : 'incomplete'}>
              {matches ? t('codeMatches') : complete ? t('codeDiffers') : t('codeTypeAll')}
            </p>
          </div>
          <ContactFields name={contactName} reach={contactReach} onName={setContactName} onReach={setContactReach} testId="agent-contact-fields" />
          {problem === null ? null : <Problem error={problem} />}
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={!matches || state === 'pinning' || (contactOf(contactName, contactReach) !== undefined && (contactName.trim() === '' || contactReach.trim() === ''))} onClick={() => void pin()}>
              {t('pinAgent')}
            </button>
            <button
              type="button"
              className="btn btn-quiet"
              onClick={() => {
                setPreview(null);
                setCard(null);
                setProblem(null);
                setState(trust?.agent === null ? 'none' : 'pinned');
              }}
            >
              {t('cancel')}
            </button>
          </div>
        </div>
      ) : null}

      {state === 'rotated' && rotation !== null ? (
        <Notice kind="success" title={t('rotatedTitle')} testId="rotated">
          <p>{t('rotatedBody', { old: rotation.previous.name, next: rotation.next.name })}</p>
          <p>
            {t('newAgentCode')}: <strong className="code-inline">{rotation.next.code}</strong>
          </p>
        </Notice>
      ) : null}

      {(state === 'pinned' || state === 'rotated') && trust?.agent != null ? (
        <>
          <div className="card" data-testid="pinned-agent">
            <h2>{t('pinnedTitle')}</h2>
            <Facts
              rows={[
                [t('agentName'), trust.agent.name],
                [t('agentCode'), <strong key="c" className="code-inline">{trust.agent.code}</strong>],
                [t('fingerprint'), <Hex key="f" value={trust.agent.fingerprint} chars={24} />],
                [t('pinnedAt'), <DateText key="d" seconds={trust.agent.pinnedAt} />],
                [t('pinnedVia'), trust.agent.via === 'pin' ? t('viaPin') : t('viaRotation')],
              ]}
            />
            <AgentContact />
            <div className="row">
              <button type="button" className="btn btn-primary" onClick={() => { app.go('inbox'); }}>
                {t('goToInbox')}
              </button>
            </div>
          </div>
          <Approvers />
          {trust.previous.length > 0 ? (
            <div className="card">
              <h2>{t('previousAgents')}</h2>
              <ul className="plain">
                {trust.previous.map((p) => (
                  <li key={p.fingerprint}>
                    {p.name} · <span className="code-inline">{p.code}</span> · {t('replacedAt')} {p.replacedAt === undefined ? '—' : <DateText seconds={p.replacedAt} />}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          <div className="card">
            <h2>{t('rotationTitle')}</h2>
            <p>{t('rotationBody')}</p>
            <InputZone purpose="agent-key-rotation" multiple={false} hint={t('dropRotation')} onGiven={(g) => void rotate(g)} testId="rotation-input" />
            {problem === null ? null : <Problem error={problem} title={t('rotationRefused')} />}
          </div>
        </>
      ) : null}
      {problem !== null && (state === 'none' || state === 'loading') ? <Problem error={problem} /> : null}
    </Screen>
  );
}
