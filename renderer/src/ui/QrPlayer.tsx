/**
 * QR frames shown full-screen for another machine's camera: play, pause, step, speed, density. Any
 * order scans, so the loop can start anywhere. Given the UR text of the frames (`frames`), the player
 * plays as the UR tools do (shared/qr/loop.ts): the pure frames 1..n, then fountain-mixed frames
 * without end, so a camera that missed some completes from whatever it catches next; and a density
 * selector re-cuts the message into coarser codes (a webcam) or denser ones (a phone held close).
 * Without `frames` it loops the given pictures.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { DENSITIES, FrameLoop, densityOfFrames, messageOfFrames } from '../../../shared/qr/loop';
import { renderSvg } from '../../../shared/qr/render';
import { svgSrc } from './core';
import { useI18n } from './i18n-context';

const SPEEDS = [1, 2, 4, 8] as const;

interface Props {
  readonly svgs: readonly string[];
  /** The UR text of the same frames: enables the fountain loop and the density selector. */
  readonly frames?: readonly string[];
  readonly title: string;
  readonly subtitle?: string;
  readonly onClose: () => void;
}

interface Source {
  readonly payload: Uint8Array;
  readonly type: string;
  /** The density `frames` were made at (their pictures are used for the pure frames at it). */
  readonly version: number | undefined;
}

function sourceOf(frames: readonly string[] | undefined): Source | undefined {
  if (frames === undefined || frames.length === 0) return undefined;
  try {
    const { payload, type } = messageOfFrames(frames);
    return { payload, type, version: densityOfFrames(frames, payload, type)?.version };
  } catch {
    return undefined; // frames that do not reassemble are played as given
  }
}

export function QrPlayer({ svgs, frames, title, subtitle, onClose }: Props) {
  const { t } = useI18n();
  const source = useMemo(() => sourceOf(frames), [frames]);
  const [version, setVersion] = useState<number | undefined>(source?.version);
  const loop = useMemo(() => (source === undefined || version === undefined ? undefined : new FrameLoop(source.payload, source.type, version)), [source, version]);
  // n: the frame number, 1-based; with a loop it runs past the pure frames into mixed ones.
  const [n, setN] = useState(1);
  const count = loop === undefined ? svgs.length : loop.seqLen;
  const endless = loop !== undefined && !loop.isSinglePart;
  const [playing, setPlaying] = useState(count > 1);
  const [speed, setSpeed] = useState<number>(2);
  const [drawn, setDrawn] = useState<{ key: string; svg: string } | null>(null);
  const root = useRef<HTMLDivElement>(null);

  const frameText = loop === undefined ? frames?.[n - 1] : loop.frame(n);
  const key = `${String(version)}:${String(n)}`;
  const given = version === source?.version || loop === undefined ? svgs[n - 1] : undefined;
  useEffect(() => {
    if (given !== undefined || frameText === undefined) return undefined;
    let live = true;
    void renderSvg(frameText).then((svg) => {
      if (live) setDrawn({ key, svg });
    });
    return () => {
      live = false;
    };
  }, [given, frameText, key]);
  const src = given ?? (drawn?.key === key ? drawn.svg : undefined);

  useEffect(() => {
    if (!playing || count < 2) return undefined;
    const id = setInterval(() => {
      setN((i) => (endless ? i + 1 : (i % count) + 1));
    }, 1000 / speed);
    return () => {
      clearInterval(id);
    };
  }, [playing, speed, count, endless]);

  useEffect(() => {
    const el = root.current;
    el?.focus();
    // Full screen where the system allows it; the overlay already covers the window otherwise.
    el?.requestFullscreen().catch(() => undefined);
    return () => {
      if (document.fullscreenElement !== null) void document.exitFullscreen().catch(() => undefined);
    };
  }, []);

  const step = (d: number): void => {
    setPlaying(false);
    setN((i) => (endless ? Math.max(1, i + d) : ((i - 1 + d + count) % count) + 1));
  };
  const faster = (d: number): void => {
    const i = SPEEDS.indexOf(speed as (typeof SPEEDS)[number]);
    const s = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, i + d))];
    if (s !== undefined) setSpeed(s);
  };
  const pickDensity = (v: number): void => {
    setVersion(v);
    setN(1);
  };

  const label = count < 2 ? t('singleCode') : n <= count ? t('frameOf', { i: n, n: count }) : t('qrMixedFrame', { k: n - count, n: count });
  return (
    <div
      className="player"
      ref={root}
      tabIndex={-1}
      role="dialog"
      aria-modal="true"
      aria-label={title}
      data-screen="qr-player"
      data-state={playing ? 'playing' : 'paused'}
      data-frame={n - 1}
      data-frames={count}
      data-seq={n}
      data-version={version}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
        else if (e.key === ' ' && e.target === e.currentTarget) {
          e.preventDefault();
          setPlaying((p) => !p);
        } else if (e.key === 'ArrowRight') step(1);
        else if (e.key === 'ArrowLeft') step(-1);
        else if (e.key === '+' || e.key === '=') faster(1);
        else if (e.key === '-') faster(-1);
      }}
    >
      <div className="player-head">
        <div>
          <p className="player-title">{title}</p>
          {subtitle === undefined ? null : <p className="player-sub">{subtitle}</p>}
        </div>
        <button type="button" className="btn" onClick={onClose}>
          {t('close')}
        </button>
      </div>
      <div className="player-stage">{src === undefined ? null : <img className="player-qr" src={svgSrc(src)} alt={n <= count ? t('qrFrameAlt', { i: n, n: count }) : label} data-testid="player-qr" />}</div>
      <div className="player-controls">
        <p className="player-count" aria-live="polite" data-testid="player-count">
          {label}
        </p>
        {source === undefined || version === undefined ? null : (
          <label className="row player-density">
            <span>{t('qrDensity')}</span>
            <select value={version} onChange={(e) => { pickDensity(Number(e.target.value)); }} data-testid="player-density">
              {DENSITIES.map((d) => (
                <option key={d.id} value={d.version}>
                  {t(`qrDensity_${d.id}`, { v: d.version, n: new FrameLoop(source.payload, source.type, d.version).seqLen })}
                </option>
              ))}
            </select>
          </label>
        )}
        {count < 2 ? null : (
        <>
        <div className="row">
          <button type="button" className="btn" onClick={() => { step(-1); }} disabled={count < 2} aria-label={t('previousFrame')}>
            ‹ {t('previous')}
          </button>
          <button type="button" className="btn btn-primary player-play" onClick={() => { setPlaying((p) => !p); }} disabled={count < 2}>
            {playing ? t('pause') : t('play')}
          </button>
          <button type="button" className="btn" onClick={() => { step(1); }} disabled={count < 2} aria-label={t('nextFrame')}>
            {t('next')} ›
          </button>
        </div>
        <div className="row speed" role="group" aria-label={t('speed')}>
          <button type="button" className="btn btn-quiet" onClick={() => { faster(-1); }} disabled={speed === SPEEDS[0]} aria-label={t('slower')}>
            −
          </button>
          <span className="speed-value">{t('framesPerSecond', { n: speed })}</span>
          <button type="button" className="btn btn-quiet" onClick={() => { faster(1); }} disabled={speed === SPEEDS[SPEEDS.length - 1]} aria-label={t('faster')}>
            +
          </button>
        </div>
        <p className="player-help muted">{endless ? t('playerHelpLoop') : t('playerHelp')}</p>
        </>
        )}
      </div>
    </div>
  );
}
