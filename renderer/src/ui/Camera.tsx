/**
 * Scanning QR codes with the camera (loaded on demand). Pictures are taken as the video delivers
 * them (requestVideoFrameCallback), decoded here (jsQR), and every new frame is handed to main's
 * `qr:assemble`, which says how many fragments of the message are in; a complete message is
 * passed on as bytes. Multi-frame codes may be shown in any order and loop.
 */
import { useEffect, useRef, useState } from 'react';
import type { IpcError } from '../../../shared/ipc/contract';
import type { MessageType } from '../../../shared/protocol/frame';
import { custos } from '../api';
import { decodeImageData } from '../lib/qr-scan';
import { localError } from '../i18n';
import { Problem, ProgressBar } from './core';
import { useI18n } from './i18n-context';

export interface ScannedMessage {
  readonly name: string;
  readonly urType: string;
  readonly bytes: Uint8Array;
}

interface Props {
  readonly continuous: boolean;
  /** Message types this screen takes (`agent-card`, `envelope`…): frames of others are ignored. */
  readonly accept: readonly MessageType[];
  readonly onMessage: (m: ScannedMessage) => void;
  readonly onClose: () => void;
}

type State = 'starting' | 'scanning' | 'complete' | 'error';

export default function Camera({ continuous, accept, onMessage, onClose }: Props) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const dialog = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<State>('starting');
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [frames, setFrames] = useState(0);
  const [fragments, setFragments] = useState<{ received: number; expected: number } | null>(null);
  const [messages, setMessages] = useState(0);
  const [ignored, setIgnored] = useState(0);
  const acceptKey = accept.join(' ');
  const callbacks = useRef({ onMessage, onClose, t });
  callbacks.current = { onMessage, onClose, t };

  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | null = null;
    const pending = new Map<string, string>(); // name → frame text, of messages not yet complete
    const seen = new Set<string>();
    const done = new Set<string>(); // frames of messages already complete: ignored when the display loops
    let next = 0;
    let assembling = false;
    let dirty = false;
    const isDirty = (): boolean => dirty;
    let count = 0;
    let ignoredCount = 0;
    const prefixes = acceptKey.split(' ').map((t) => `custos-${t}`);

    const assemble = async (): Promise<void> => {
      if (assembling) {
        dirty = true;
        return;
      }
      assembling = true;
      do {
        dirty = false;
        const list = [...pending].map(([name, frame]) => ({ name, frame }));
        if (list.length === 0) break;
        const r = await custos().qr.assemble({ frames: list });
        if (stopped) return;
        if (!r.ok) {
          setProblem(r.error);
          break;
        }
        for (const m of r.value.messages) {
          for (const n of m.names) {
            const f = pending.get(n);
            if (f !== undefined) done.add(f);
            pending.delete(n);
          }
          count += 1;
          setMessages(count);
          callbacks.current.onMessage({ name: `${callbacks.current.t('cameraMessageName')} ${String(count)}`, urType: m.urType, bytes: m.bytes });
        }
        let best: { received: number; expected: number } | null = null;
        for (const p of r.value.problems) {
          const received = p.problem.details['received'];
          const expected = p.problem.details['expected'];
          if (p.problem.code === 'INCOMPLETE' && typeof received === 'number' && typeof expected === 'number') {
            if (best === null || expected > best.expected) best = { received, expected };
          } else if (p.problem.code !== 'INCOMPLETE') {
            // A frame that cannot belong to anything: say so, drop it, keep scanning.
            setProblem(p.problem);
            for (const n of p.names) pending.delete(n);
          }
        }
        setFragments(best);
        if (r.value.messages.length > 0 && !continuous) {
          stopped = true;
          setState('complete');
          stream?.getTracks().forEach((tr) => {
            tr.stop();
          });
          callbacks.current.onClose();
          return;
        }
      } while (isDirty());
      assembling = false;
    };

    const start = async (): Promise<void> => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: 'environment' }, audio: false });
      } catch {
        setProblem(localError('errCameraUnavailable'));
        setState('error');
        return;
      }
      if (stopped) {
        stream.getTracks().forEach((tr) => {
          tr.stop();
        });
        return;
      }
      const v = video.current;
      if (v === null) return;
      v.srcObject = stream;
      v.muted = true;
      await v.play().catch(() => undefined);
      setState('scanning');
      const canvas = document.createElement('canvas');
      const g = canvas.getContext('2d', { willReadFrequently: true });
      const tick = (): void => {
        if (stopped || g === null) return;
        const w = v.videoWidth;
        const h = v.videoHeight;
        if (w > 0 && h > 0) {
          const scale = Math.min(1, 960 / Math.max(w, h));
          canvas.width = Math.round(w * scale);
          canvas.height = Math.round(h * scale);
          g.drawImage(v, 0, 0, canvas.width, canvas.height);
          let text: string | null;
          try {
            text = decodeImageData(g.getImageData(0, 0, canvas.width, canvas.height));
          } catch {
            text = null;
          }
          if (text !== null) {
            const frame = text.trim().toLowerCase();
            const type = /^ur:([a-z0-9-]+)\//.exec(frame)?.[1];
            if (type === undefined || !prefixes.includes(type)) {
              if (!seen.has(frame)) {
                seen.add(frame);
                ignoredCount += 1;
                setIgnored(ignoredCount);
              }
            } else if (!seen.has(frame)) {
              seen.add(frame);
              setFrames(seen.size);
            }
            if (type !== undefined && prefixes.includes(type) && !done.has(frame) && ![...pending.values()].includes(frame)) {
              next += 1;
              pending.set(`camera-${String(next)}`, frame);
              void assemble();
            }
          }
        }
        v.requestVideoFrameCallback(tick);
      };
      v.requestVideoFrameCallback(tick);
    };
    void start();
    dialog.current?.focus();
    return () => {
      stopped = true;
      stream?.getTracks().forEach((tr) => {
        tr.stop();
      });
    };
  }, [continuous, acceptKey]);

  return (
    <div className="overlay" role="dialog" aria-modal="true" aria-labelledby="camera-title" data-screen="camera" data-state={state} data-messages={messages}>
      <div
        className="overlay-panel camera-panel"
        ref={dialog}
        tabIndex={-1}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
        }}
      >
        <h2 id="camera-title">{t('cameraTitle')}</h2>
        <p className="lead">{continuous ? t('cameraLeadContinuous') : t('cameraLead')}</p>
        <video ref={video} className="camera-video" playsInline muted aria-label={t('cameraTitle')} />
        {state === 'starting' ? <p role="status">{t('cameraStarting')}</p> : null}
        {fragments === null ? (
          <p className="muted" role="status">
            {frames === 0 ? t('cameraNoFrameYet') : t('cameraFramesRead', { n: frames })}
          </p>
        ) : (
          <ProgressBar done={fragments.received} total={fragments.expected} label={t('cameraFragments')} testId="camera-progress" />
        )}
        {ignored > 0 ? (
          <p className="muted" role="status">
            {t('cameraIgnored', { n: ignored })}
          </p>
        ) : null}
        {messages > 0 ? (
          <p className="success-text" role="status" data-testid="camera-messages">
            {t('cameraMessagesDone', { n: messages })}
          </p>
        ) : null}
        {problem === null ? null : <Problem error={problem} />}
        <div className="row row-end">
          <button type="button" className="btn btn-primary" onClick={onClose}>
            {messages > 0 ? t('done') : t('stopCamera')}
          </button>
        </div>
      </div>
    </div>
  );
}
