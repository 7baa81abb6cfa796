/**
 * QR frames shown full-screen for another machine's camera: play, pause, step, speed. Any order
 * scans, so the loop can start anywhere and a missed frame comes round again.
 */
import { useEffect, useRef, useState } from 'react';
import { svgSrc } from './core';
import { useI18n } from './i18n-context';

const SPEEDS = [1, 2, 4, 8] as const;

interface Props {
  readonly svgs: readonly string[];
  readonly title: string;
  readonly subtitle?: string;
  readonly onClose: () => void;
}

export function QrPlayer({ svgs, title, subtitle, onClose }: Props) {
  const { t } = useI18n();
  const [index, setIndex] = useState(0);
  const [playing, setPlaying] = useState(svgs.length > 1);
  const [speed, setSpeed] = useState<number>(2);
  const root = useRef<HTMLDivElement>(null);
  const count = svgs.length;

  useEffect(() => {
    if (!playing || count < 2) return undefined;
    const id = setInterval(() => {
      setIndex((i) => (i + 1) % count);
    }, 1000 / speed);
    return () => {
      clearInterval(id);
    };
  }, [playing, speed, count]);

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
    setIndex((i) => (i + d + count) % count);
  };
  const faster = (d: number): void => {
    const i = SPEEDS.indexOf(speed as (typeof SPEEDS)[number]);
    const next = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, i + d))];
    if (next !== undefined) setSpeed(next);
  };

  const src = svgs[index];
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
      data-frame={index}
      data-frames={count}
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
      <div className="player-stage">{src === undefined ? null : <img className="player-qr" src={svgSrc(src)} alt={t('qrFrameAlt', { i: index + 1, n: count })} data-testid="player-qr" />}</div>
      <div className="player-controls">
        <p className="player-count" aria-live="polite" data-testid="player-count">
          {count < 2 ? t('singleCode') : t('frameOf', { i: index + 1, n: count })}
        </p>
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
        <p className="player-help muted">{t('playerHelp')}</p>
        </>
        )}
      </div>
    </div>
  );
}
