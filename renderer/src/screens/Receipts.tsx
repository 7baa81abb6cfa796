/**
 * Receipts: sign `accepted` for shares received, or `rejected` with a reason (a share held, or an
 * envelope the inbox refused), one by one or in a batch; then save the receipts as files, show
 * them as QR codes (one at a time, or the whole batch as one animated sequence: laid out in main by
 * receipts:sequence, played by QrPlayer's `messages`, which draws only the code on screen), or send
 * them to the linked agent.
 */
import { useCallback, useEffect, useId, useState } from 'react';
import type { FileOut, IpcError, ResponseOf } from '../../../shared/ipc/contract';
import type { RejectionReason } from '../../../shared/protocol/receipt';
import { custos } from '../api';
import { useApp } from '../app-context';
import { newOpId } from '../lib/ops';
import { DateText, Empty, Hex, Notice, Problem, ProgressBar, Reason, Screen, useProgress } from '../ui/core';
import { useI18n } from '../ui/i18n-context';
import { QrPlayer, type QrMessage } from '../ui/QrPlayer';

type Share = ResponseOf<'shares:list'>['shares'][number];
type Refusal = ResponseOf<'inbox:refusals'>['refusals'][number];
type Signed = ResponseOf<'receipts:sign'>['receipts'];
type Sent = ResponseOf<'receipts:send'>['results'];
type State = 'loading' | 'empty' | 'ready' | 'signing' | 'signed';

export const REASONS: readonly RejectionReason[] = ['MALFORMED', 'SIGNATURE_INVALID', 'UNTRUSTED_SIGNER', 'WRONG_RECIPIENT', 'EXPIRED', 'SHARE_COMMITMENT_MISMATCH', 'DECRYPT_FAILED', 'DUPLICATE_SHARE', 'SET_MISMATCH', 'OTHER'];
const SHOW = 200;
/** Ids per receipts:sign call (the contract takes up to MAX_ITEMS, 20,000). */
const BATCH = 10_000;
/** Receipts per receipts:sequence call (the contract takes up to MAX_ITEMS, 20,000). */
const SEQUENCE_BATCH = 10_000;

export function Receipts() {
  const { t } = useI18n();
  const app = useApp();
  const id = useId();
  const [shares, setShares] = useState<Share[] | null>(null);
  const [rejectedHeld, setRejectedHeld] = useState<Share[]>([]);
  const [refusals, setRefusals] = useState<Refusal[] | null>(null);
  const [pickShares, setPickShares] = useState<ReadonlySet<string>>(new Set());
  const [pickRefused, setPickRefused] = useState<ReadonlySet<string>>(new Set());
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState<RejectionReason>('OTHER');
  const [note, setNote] = useState('');
  const [signing, setSigning] = useState(false);
  const [signed, setSigned] = useState<Signed | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [limits, setLimits] = useState({ shares: SHOW, held: 20, refusals: SHOW });
  const more = (list: keyof typeof limits): void => { setLimits((l) => ({ ...l, [list]: l[list] + SHOW })); };

  const load = useCallback(async (): Promise<void> => {
    const [s, r] = await Promise.all([custos().shares.list({ filter: { status: 'received' } }), custos().inbox.refusals()]);
    if (s.ok) {
      setShares(s.value.shares.filter((x) => x.receipt === undefined));
      setRejectedHeld(s.value.shares.filter((x) => x.receipt === 'rejected'));
    }
    else setProblem(s.error);
    if (r.ok) setRefusals(r.value.refusals.filter((x) => x.receipts === 0 && x.refusal.offerSignedRejection)); // harmless files are never offered a rejection (issue 12)
    else setProblem(r.error);
    setPickShares(new Set());
    setPickRefused(new Set());
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const sign = async (req: Parameters<ReturnType<typeof custos>['receipts']['sign']>[0]): Promise<void> => {
    setSigning(true);
    setProblem(null);
    // One call takes at most MAX_ITEMS ids: a larger batch goes in parts.
    const parts = req.ids === 'all' ? [req] : Array.from({ length: Math.ceil(req.ids.length / BATCH) }, (_x, i) => ({ ...req, ids: (req.ids as string[]).slice(i * BATCH, (i + 1) * BATCH) }));
    const all: Signed = [];
    for (const part of parts) {
      const r = await custos().receipts.sign(part);
      if (!r.ok) {
        setProblem(r.error);
        break;
      }
      all.push(...r.value.receipts);
    }
    setSigning(false);
    if (all.length === 0) return;
    setSigned(all);
    setRejecting(false);
    setNote('');
    await load();
    await app.refresh();
  };

  const toggle = (set: ReadonlySet<string>, key: string): Set<string> => {
    const next = new Set(set);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    return next;
  };

  let state: State = 'loading';
  if (shares !== null && refusals !== null) state = shares.length === 0 && refusals.length === 0 ? 'empty' : 'ready';
  if (signing) state = 'signing';
  else if (signed !== null) state = 'signed';

  return (
    <Screen name="receipts" state={state} title={t('receiptsTitle')} lead={t('receiptsLead')}>
      {problem === null ? null : <Problem error={problem} />}
      {signed !== null ? (
        <SignedReceipts
          receipts={signed}
          onDone={() => {
            setSigned(null);
          }}
        />
      ) : null}

      {state === 'empty' ? (
        <Empty title={t('receiptsEmptyTitle')}>
          <p>{t('receiptsEmptyBody')}</p>
        </Empty>
      ) : null}

      {shares !== null && shares.length > 0 ? (
        <div className="card" data-testid="waiting-shares">
          <h2>{t('waitingTitle', { n: shares.length })}</h2>
          <p className="help">{t('waitingHelp')}</p>
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={signing} onClick={() => void sign({ ids: shares.map((x) => x.id), status: 'accepted' })}>
              {t('acceptAll', { n: shares.length })}
            </button>
            <button type="button" className="btn" disabled={signing || pickShares.size === 0} onClick={() => void sign({ ids: [...pickShares], status: 'accepted' })}>
              {t('acceptSelected', { n: pickShares.size })}
            </button>
            <button type="button" className="btn btn-quiet" disabled={signing || pickShares.size === 0} onClick={() => { setRejecting(true); }}>
              {t('rejectSelected', { n: pickShares.size })}
            </button>
          </div>
          {rejecting && pickShares.size > 0 ? (
            <div className="confirm-box" data-testid="reject-box">
              <div className="field">
                <label htmlFor={`${id}-reason`}>{t('rejectReason')}</label>
                <select id={`${id}-reason`} value={reason} onChange={(e) => { setReason(e.target.value as RejectionReason); }}>
                  {REASONS.map((r) => (
                    <option key={r} value={r}>
                      {t(`reason_${r}`)}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`${id}-note`}>{t('rejectNote')}</label>
                <input id={`${id}-note`} value={note} onChange={(e) => { setNote(e.target.value); }} maxLength={500} />
              </div>
              <div className="row">
                <button type="button" className="btn btn-danger" disabled={signing} onClick={() => void sign({ ids: [...pickShares], status: 'rejected', reason, ...(note.trim() === '' ? {} : { note: note.trim() }) })}>
                  {t('signRejected', { n: pickShares.size })}
                </button>
                <button type="button" className="btn btn-quiet" onClick={() => { setRejecting(false); }}>
                  {t('cancel')}
                </button>
              </div>
            </div>
          ) : null}
          <div className="table-wrap table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label={t('selectAll')}
                      checked={pickShares.size === shares.length}
                      onChange={(e) => {
                        setPickShares(e.target.checked ? new Set(shares.map((s) => s.id)) : new Set());
                      }}
                    />
                  </th>
                  <th scope="col">{t('key')}</th>
                  <th scope="col">{t('node')}</th>
                  <th scope="col">{t('shareIndexShort')}</th>
                  <th scope="col">{t('backupSet')}</th>
                  <th scope="col">{t('received')}</th>
                </tr>
              </thead>
              <tbody>
                {shares.slice(0, limits.shares).map((s) => (
                  <tr key={s.id}>
                    <td>
                      <input type="checkbox" aria-label={t('selectShare', { key: s.keyId, node: s.nodeId, i: s.shareIndex })} checked={pickShares.has(s.id)} onChange={() => { setPickShares((p) => toggle(p, s.id)); }} />
                    </td>
                    <td>{s.keyId}</td>
                    <td>{s.nodeId}</td>
                    <td className="num">{s.shareIndex}</td>
                    <td>
                      <Hex value={s.setId} chars={8} />
                    </td>
                    <td>
                      <DateText seconds={s.receivedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <ShowMore shown={limits.shares} total={shares.length} onMore={() => { more('shares'); }} />
          </div>
        </div>
      ) : null}

      {rejectedHeld.length > 0 ? (
        <div className="card" data-testid="rejected-held">
          <h2>{t('rejectedHeldTitle', { n: rejectedHeld.length })}</h2>
          <p className="help">{t('rejectedHeldHelp')}</p>
          <ul className="plain">
            {rejectedHeld.slice(0, limits.held).map((x) => (
              <li key={x.id}>
                {x.keyId} · {x.nodeId} · #{x.shareIndex}
              </li>
            ))}
          </ul>
          <ShowMore shown={limits.held} total={rejectedHeld.length} onMore={() => { more('held'); }} />
        </div>
      ) : null}

      {refusals !== null && refusals.length > 0 ? (
        <div className="card" data-testid="refused-envelopes">
          <h2>{t('refusedTitle', { n: refusals.length })}</h2>
          <p className="help">{t('refusedHelp')}</p>
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={signing} onClick={() => void sign({ ids: 'all', status: 'rejected' })}>
              {t('rejectAllRefused', { n: refusals.length })}
            </button>
            <button type="button" className="btn" disabled={signing || pickRefused.size === 0} onClick={() => void sign({ ids: [...pickRefused], status: 'rejected' })}>
              {t('rejectSelectedRefused', { n: pickRefused.size })}
            </button>
          </div>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">
                    <span className="sr-only">{t('select')}</span>
                  </th>
                  <th scope="col">{t('file')}</th>
                  <th scope="col">{t('share')}</th>
                  <th scope="col">{t('reason')}</th>
                </tr>
              </thead>
              <tbody>
                {refusals.slice(0, limits.refusals).map((r) => (
                  <tr key={r.id}>
                    <td>
                      <input type="checkbox" aria-label={t('selectRefusal', { name: r.name ?? r.id.slice(0, 12) })} checked={pickRefused.has(r.id)} onChange={() => { setPickRefused((p) => toggle(p, r.id)); }} />
                    </td>
                    <td className="file-name">{r.name ?? <Hex value={r.id} />}</td>
                    <td>{r.fields === undefined ? '—' : `${r.fields.keyId} · ${r.fields.nodeId} · #${String(r.fields.shareIndex)}`}</td>
                    <td>
                      <Reason error={{ code: r.code, message: r.message, details: {} }} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <ShowMore shown={limits.refusals} total={refusals.length} onMore={() => { more('refusals'); }} />
          </div>
        </div>
      ) : null}
    </Screen>
  );
}

function SignedReceipts({ receipts, onDone }: { receipts: Signed; onDone: () => void }) {
  const { t } = useI18n();
  const app = useApp();
  const [saved, setSaved] = useState<string[] | null>(null);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [qr, setQr] = useState<{ title: string; svgs: string[]; frames: string[] } | null>(null);
  const [sequence, setSequence] = useState<QrMessage[] | null>(null);
  const [preparing, setPreparing] = useState<{ opId: string; offset: number } | null>(null);
  const progress = useProgress(preparing?.opId ?? null);
  const [shown, setShown] = useState(20);
  const [sent, setSent] = useState<Sent | null>(null);
  const [sending, setSending] = useState(false);
  const files: FileOut[] = receipts.map((r) => r.file);
  const accepted = receipts.filter((r) => r.status === 'accepted').length;

  const saveAll = async (): Promise<void> => {
    const r = files.length === 1 && files[0] !== undefined ? await custos().files.save({ file: files[0] }) : await custos().files.saveAll({ files });
    if (!r.ok) setProblem(r.error);
    else if (r.value.saved) setSaved('names' in r.value ? r.value.names : [r.value.name ?? '']);
  };
  const showQr = async (i: number): Promise<void> => {
    const rec = receipts[i];
    if (rec === undefined) return;
    const r = await custos().receipts.export({ receipts: [rec.file] });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    const first = r.value.receipts[0];
    if (first !== undefined) setQr({ title: t('receiptQrTitle', { name: rec.file.name }), svgs: first.qr.svgs, frames: first.qr.frames });
  };
  /**
   * Every receipt of the batch as one QR sequence (issue 13): main checks the receipts and lays the
   * sequence out, SEQUENCE_BATCH at a time, with progress; the window gets no pictures, so a
   * thousand receipts never block it.
   */
  const showAll = async (): Promise<void> => {
    setProblem(null);
    const op = newOpId('sequence');
    const all: QrMessage[] = [];
    for (let i = 0; i < files.length; i += SEQUENCE_BATCH) {
      const partOp = `${op}-${String(i)}`;
      setPreparing({ opId: partOp, offset: i });
      const r = await custos().receipts.sequence({ receipts: files.slice(i, i + SEQUENCE_BATCH), opId: partOp });
      if (!r.ok) {
        setPreparing(null);
        setProblem(r.error);
        return;
      }
      all.push(...r.value.messages);
    }
    setPreparing(null);
    setSequence(all);
  };
  const send = async (): Promise<void> => {
    setSending(true);
    const r = await custos().receipts.send({ receipts: files });
    setSending(false);
    if (!r.ok) setProblem(r.error);
    else setSent(r.value.results);
  };

  return (
    <div className="card card-accent" data-testid="signed-receipts">
      <h2>{t('signedTitle', { n: receipts.length })}</h2>
      <p>{t('signedBody', { a: accepted, r: receipts.length - accepted })}</p>
      <div className="row">
        <button type="button" className="btn btn-primary" onClick={() => void saveAll()}>
          {receipts.length === 1 ? t('saveReceipt') : t('saveReceipts', { n: receipts.length })}
        </button>
        {app.settings.agentUrl === null ? null : (
          <button type="button" className="btn" disabled={sending} onClick={() => void send()}>
            {t('sendToAgent')}
          </button>
        )}
        <button type="button" className="btn btn-quiet" onClick={onDone}>
          {t('done')}
        </button>
      </div>
      {saved === null ? null : <Notice kind="success" title={t('savedFiles', { n: saved.length })} testId="receipts-saved" />}
      {problem === null ? null : <Problem error={problem} />}
      {sent === null ? null : (
        <Notice kind={sent.every((s) => s.ok) ? 'success' : 'warning'} title={t('sentResult', { ok: sent.filter((s) => s.ok).length, n: sent.length })}>
          <ul className="plain">
            {sent
              .filter((s) => !s.ok)
              .map((s) => (
                <li key={s.name}>
                  {s.name}: {s.problem === undefined ? null : <Reason error={s.problem} />}
                </li>
              ))}
          </ul>
        </Notice>
      )}
      <h3>{t('asQr')}</h3>
      <p className="help">{receipts.length === 1 ? t('asQrHelp') : t('receipts_asQrHelp')}</p>
      {receipts.length < 2 ? null : (
        <p className="row">
          <button type="button" className="btn" disabled={preparing !== null} onClick={() => void showAll()} data-testid="receipts-show-all-qr">
            {t('receipts_showAllQr', { n: receipts.length })}
          </button>
        </p>
      )}
      {preparing === null ? null : (
        <ProgressBar
          done={preparing.offset + (progress?.done ?? 0)}
          total={receipts.length}
          label={t('receipts_seqPreparing', { n: receipts.length })}
          testId="receipts-sequence-progress"
        />
      )}
      <ul className="receipt-list">
        {receipts.slice(0, shown).map((r, i) => (
          <li key={r.hash}>
            <span className={`badge badge-${r.status}`}>{t(`receipt_${r.status}`)}</span>
            <span className="file-name">{r.file.name}</span>
            {r.reason === undefined ? null : <span className="muted">{t(`reason_${r.reason}`)}</span>}
            <button type="button" className="btn btn-small" onClick={() => void showQr(i)}>
              {t('showQr')}
            </button>
          </li>
        ))}
      </ul>
      <ShowMore shown={shown} total={receipts.length} onMore={() => { setShown((n) => n + SHOW); }} />
      {qr === null ? null : <QrPlayer svgs={qr.svgs} frames={qr.frames} title={qr.title} onClose={() => { setQr(null); }} />}
      {sequence === null ? null : (
        <QrPlayer
          messages={sequence}
          title={t('receipts_seqTitle', { n: sequence.length })}
          subtitle={(f, endless) => t(endless ? 'receipts_seqCaption' : 'receipts_seqCaptionCycle', { n: sequence.length, f })}
          onClose={() => { setSequence(null); }}
        />
      )}
    </div>
  );
}

/** "Show 200 more": every row of a long list is reachable, a page at a time (issue 13). */
function ShowMore({ shown, total, onMore }: { shown: number; total: number; onMore: () => void }) {
  const { t } = useI18n();
  if (total <= shown) return null;
  return (
    <p className="muted row" data-testid="show-more">
      {t('moreNotShown', { n: total - shown })}
      <button type="button" className="btn btn-small" onClick={onMore}>
        {t('receipts_showMore', { k: Math.min(SHOW, total - shown) })}
      </button>
    </p>
  );
}
