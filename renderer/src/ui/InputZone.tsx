/**
 * Where a person gives the app files: drop them, choose them (the system dialog, in main), paste
 * (Ctrl+V: files, pictures or UR text), or scan QR codes with the camera (loaded on demand).
 */
import { lazy, Suspense, useEffect, useRef, useState, type DragEvent } from 'react';
import type { IpcError, RequestOf } from '../../../shared/ipc/contract';
import type { MessageType } from '../../../shared/protocol/frame';
import { custos } from '../api';
import { framesInText, readFiles } from '../lib/files';
import type { Given } from '../lib/messages';
import { localError } from '../i18n';
import { Problem } from './core';
import { useI18n } from './i18n-context';

const Camera = lazy(() => import('./Camera'));

export type Purpose = RequestOf<'files:open'>['purpose'];

export interface InputZoneProps {
  readonly purpose: Purpose;
  readonly multiple: boolean;
  readonly onGiven: (given: Given) => void;
  readonly busy?: boolean;
  /** What to drop here, in words. */
  readonly hint: string;
  /** Offer the camera; `continuous`: keep scanning after a message is complete (inbox, station). */
  readonly camera?: 'single' | 'continuous';
  /** The message types the camera takes here. */
  readonly accept?: readonly MessageType[];
  readonly testId?: string;
}

export function InputZone({ purpose, multiple, onGiven, busy = false, hint, camera, accept = [], testId }: InputZoneProps) {
  const { t } = useI18n();
  const [dragging, setDragging] = useState(false);
  const [problem, setProblem] = useState<IpcError | null>(null);
  const [scanning, setScanning] = useState(false);
  const given = useRef(onGiven);
  given.current = onGiven;
  const busyRef = useRef(busy);
  busyRef.current = busy;

  // Paste anywhere on the screen: files, pictures or UR text.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent): void => {
      const data = e.clipboardData;
      if (data === null || busyRef.current) return;
      const target = e.target;
      if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) return;
      e.preventDefault();
      const files = [...data.files];
      const text = data.getData('text/plain');
      void (async () => {
        const frames = framesInText(text);
        if (files.length === 0 && frames.length === 0) {
          setProblem(localError(text.trim() === '' ? 'errPasteEmpty' : 'errPasteNoFrames'));
          return;
        }
        setProblem(null);
        given.current({ files: await readFiles(files), frames });
      })();
    };
    document.addEventListener('paste', onPaste);
    return () => {
      document.removeEventListener('paste', onPaste);
    };
  }, []);

  const onDrop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    setDragging(false);
    if (busy) return;
    const files = [...e.dataTransfer.files];
    const text = e.dataTransfer.getData('text/plain');
    void (async () => {
      const frames = framesInText(text);
      if (files.length === 0 && frames.length === 0) {
        setProblem(localError('errNothingReadable'));
        return;
      }
      setProblem(null);
      const list = multiple ? files : files.slice(0, 1);
      given.current({ files: await readFiles(list), frames });
    })();
  };

  const choose = async (): Promise<void> => {
    const r = await custos().files.open({ purpose, multiple });
    if (!r.ok) {
      setProblem(r.error);
      return;
    }
    if (r.value.files.length === 0) return; // cancelled
    setProblem(null);
    given.current({ files: r.value.files, frames: [] });
  };

  return (
    <div className="input-zone" data-testid={testId}>
      <div
        className={dragging ? 'dropzone dropzone-active' : 'dropzone'}
        data-dragging={dragging ? 'yes' : 'no'}
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        }}
        onDragLeave={(e) => {
          if (e.currentTarget === e.target) setDragging(false);
        }}
        onDrop={onDrop}
        aria-describedby={`${purpose}-hint`}
      >
        <p className="dropzone-title">{hint}</p>
        <p className="dropzone-hint" id={`${purpose}-hint`}>
          {t('dropHint')}
        </p>
        <div className="row">
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void choose()}>
            {multiple ? t('chooseFiles') : t('chooseFile')}
          </button>
          {camera === undefined ? null : (
            <button type="button" className="btn" disabled={busy} onClick={() => { setScanning(true); }}>
              {t('scanWithCamera')}
            </button>
          )}
        </div>
      </div>
      {problem === null ? null : <Problem error={problem} />}
      {scanning ? (
        <Suspense fallback={null}>
          <Camera
            continuous={camera === 'continuous'}
            accept={accept}
            onMessage={(m) => {
              given.current({ files: [{ name: m.name, bytes: m.bytes }], frames: [] });
            }}
            onClose={() => {
              setScanning(false);
            }}
          />
        </Suspense>
      ) : null}
    </div>
  );
}
