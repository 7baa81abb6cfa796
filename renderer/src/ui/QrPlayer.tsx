/**
 * QR frames shown full-screen for another machine's camera: play, pause, step, speed, density. Any
 * order scans, so the loop can start anywhere. Given the UR text of the frames (`frames`), the player
 * plays as the UR tools do (shared/qr/loop.ts): the pure frames 1..n, then fountain-mixed frames
 * without end, so a camera that missed some completes from whatever it catches next; and a density
 * selector re-cuts the message into coarser codes (a webcam) or denser ones (a phone held close).
 * Without `frames` it loops the given pictures.
 *
 * Several messages (`messages`, e.g. every signed receipt of a batch) play as one sequence in rounds
 * (shared/qr/sequence.ts): first every message's pure frames, message after message, then rounds of
 * each message's mixed frames, each message's frames kept together. Such a sequence is laid out in
 * main (receipts:sequence: each message's bytes and its frame count at every density), and the
 * player cuts and draws only the frame on screen: a thousand messages never block the window
 * (issue 13), at any density.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { DENSITIES, FrameLoop, STANDARD_DENSITY, densityOfFrames, messageOfFrames } from '../../../shared/qr/loop';
import { renderSvg } from '../../../shared/qr/render';
import { placeInSequence, type SequencePlace } from '../../../shared/qr/sequence';
import { svgSrc } from './core';
import { useI18n } from './i18n-context';

const SPEEDS = [1, 2, 4, 8] as const;
/** Messages of a sequence whose frame loop is kept while playing (each is cut again when needed). */
const LOOPS_KEPT = 64;

/** One message of a multi-message sequence, laid out in main: its UR type and bytes, and its pure frame count at each density. */
export interface QrMessage {
  readonly type: string;
  readonly payload: Uint8Array;
  readonly lens: readonly { readonly version: number; readonly frames: number }[];
}

interface Props {
  /** The pictures of one message (ignored with `messages`). */
  readonly svgs?: readonly string[];
  /** The UR text of the same frames: enables the fountain loop and the density selector. */
  readonly frames?: readonly string[];
  /** Several messages played as one sequence (see the module header). */
  readonly messages?: readonly QrMessage[];
  readonly title: string;
  /** A line under the title; a function gets the sequence's pure frame count at the chosen density, and whether mixed frames follow them. */
  readonly subtitle?: string | ((frames: number, endless: boolean) => string);
  readonly onClose: () => void;
}

interface Source {
  readonly payload: Uint8Array;
  readonly type: string;
  /** The density `frames` were made at (their pictures are used for the pure frames at it). */
  readonly version: number | undefined;
}

/** The sequence at one density: each message's pure frame count, and what to show at a place. */
interface Layout {
  readonly lens: readonly number[];
  /** Some message spans several codes: mixed frames follow the pure ones without end. */
  readonly endless: boolean;
  /** The frame at `place`: its UR text, and its picture when one was given. */
  readonly at: (place: SequencePlace) => { readonly text: string | undefined; readonly svg: string | undefined };
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

/** One message given as pictures (and their UR text), at `version`. */
function singleLayout(svgs: readonly string[], frames: readonly string[] | undefined, source: Source | undefined, version: number | undefined): Layout {
  const loop = source === undefined || version === undefined ? undefined : new FrameLoop(source.payload, source.type, version);
  const len = loop?.seqLen ?? svgs.length;
  return {
    lens: len > 0 ? [len] : [], // nothing to show takes no place
    endless: loop !== undefined && !loop.isSinglePart,
    at: ({ j, k }) =>
      loop === undefined ? { text: frames?.[j], svg: svgs[j] } : { text: loop.frame(k), svg: version === source?.version && k <= len ? svgs[k - 1] : undefined },
  };
}

const framesAt = (m: QrMessage, version: number): number => m.lens.find((l) => l.version === version)?.frames ?? 0;

/** Messages laid out in main, at `version`: a message's loop is made only when one of its frames is on screen. */
function sequenceLayout(messages: readonly QrMessage[], version: number): Layout {
  const shown = messages.filter((m) => framesAt(m, version) > 0);
  const lens = shown.map((m) => framesAt(m, version));
  const loops = new Map<number, FrameLoop>();
  return {
    lens,
    endless: lens.some((l) => l > 1),
    at: ({ m, k }) => {
      const msg = shown[m];
      if (msg === undefined) return { text: undefined, svg: undefined };
      let loop = loops.get(m);
      if (loop === undefined) {
        if (loops.size >= LOOPS_KEPT) loops.clear();
        loop = new FrameLoop(msg.payload, msg.type, version);
        loops.set(m, loop);
      }
      return { text: loop.frame(k), svg: undefined };
    },
  };
}

export function QrPlayer({ svgs, frames, messages, title, subtitle, onClose }: Props) {
  const { t } = useI18n();
  const multi = messages !== undefined;
  const source = useMemo(() => (multi ? undefined : sourceOf(frames)), [multi, frames]);
  const first = multi ? (messages.length > 0 ? STANDARD_DENSITY.version : undefined) : source?.version;
  const [version, setVersion] = useState<number | undefined>(first);
  const layoutAt = useMemo(
    () => (v: number | undefined): Layout => (multi ? sequenceLayout(messages, v ?? STANDARD_DENSITY.version) : singleLayout(svgs ?? [], frames, source, v)),
    [multi, messages, svgs, frames, source],
  );
  const layout = useMemo(() => layoutAt(version), [layoutAt, version]);
  const counts = useMemo(
    () =>
      new Map(
        first === undefined
          ? []
          : DENSITIES.map((d) => [d.version, multi ? messages.reduce((n, m) => n + framesAt(m, d.version), 0) : layoutAt(d.version).lens.reduce((n, l) => n + l, 0)]),
      ),
    [first, multi, messages, layoutAt],
  );
  // p: the position in the sequence, 1-based; with a loop it runs past the pure frames into mixed ones.
  const [p, setP] = useState(1);
  const count = layout.lens.reduce((s, l) => s + l, 0);
  const endless = layout.endless;
  const [playing, setPlaying] = useState(count > 1);
  const [speed, setSpeed] = useState<number>(2);
  const [drawn, setDrawn] = useState<{ key: string; svg: string } | null>(null);
  const root = useRef<HTMLDivElement>(null);

  const at = count < 1 ? undefined : placeInSequence(layout.lens, p);
  const shown = at === undefined ? undefined : layout.at(at);
  const frameText = shown?.text;
  const given = shown?.svg;
  const key = `${String(version)}:${String(p)}`;
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
      setP((i) => (endless ? i + 1 : (i % count) + 1));
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
    setP((i) => (endless ? Math.max(1, i + d) : ((i - 1 + d + count) % count) + 1));
  };
  const faster = (d: number): void => {
    const i = SPEEDS.indexOf(speed as (typeof SPEEDS)[number]);
    const s = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, i + d))];
    if (s !== undefined) setSpeed(s);
  };
  const pickDensity = (v: number): void => {
    setVersion(v);
    setP(1);
  };

  const k = at?.k ?? 1;
  const len = at === undefined ? 0 : (layout.lens[at.m] ?? 0);
  let label: string;
  if (!multi) label = count < 2 ? t('singleCode') : k <= len ? t('frameOf', { i: k, n: len }) : t('qrMixedFrame', { k: k - len, n: len });
  else {
    const where = { m: (at?.m ?? 0) + 1, M: layout.lens.length };
    if (len < 2) label = t('qrSeq_single', where);
    else label = k <= len ? t('qrSeq_frame', { ...where, i: k, n: len }) : t('qrSeq_mixed', { ...where, k: k - len, n: len });
  }
  const alt = !multi && k <= len ? t('qrFrameAlt', { i: k, n: len }) : label;
  const help = count < 2 ? null : endless ? t('playerHelpLoop') : t('playerHelp');
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
      data-frame={p - 1}
      data-frames={count}
      data-seq={p}
      data-messages={layout.lens.length}
      data-message={(at?.m ?? 0) + 1}
      data-version={version}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
        else if (e.key === ' ' && e.target === e.currentTarget) {
          e.preventDefault();
          setPlaying((x) => !x);
        } else if (e.key === 'ArrowRight') step(1);
        else if (e.key === 'ArrowLeft') step(-1);
        else if (e.key === '+' || e.key === '=') faster(1);
        else if (e.key === '-') faster(-1);
      }}
    >
      <div className="player-head">
        <div>
          <p className="player-title">{title}</p>
          {subtitle === undefined ? null : <p className="player-sub" data-testid="player-sub">{typeof subtitle === 'function' ? subtitle(count, endless) : subtitle}</p>}
        </div>
        <button type="button" className="btn" onClick={onClose}>
          {t('close')}
        </button>
      </div>
      <div className="player-stage">{src === undefined ? null : <img className="player-qr" src={svgSrc(src)} alt={alt} data-testid="player-qr" />}</div>
      <div className="player-controls">
        <p className="player-count" aria-live="polite" data-testid="player-count">
          {label}
        </p>
        {first === undefined || version === undefined ? null : (
          <label className="row player-density">
            <span>{t('qrDensity')}</span>
            <select value={version} onChange={(e) => { pickDensity(Number(e.target.value)); }} data-testid="player-density">
              {DENSITIES.map((d) => (
                <option key={d.id} value={d.version}>
                  {t(`qrDensity_${d.id}`, { v: d.version, n: counts.get(d.version) ?? 0 })}
                </option>
              ))}
            </select>
          </label>
        )}
        {count < 2 ? null : (
        <>
        <div className="row">
          <button type="button" className="btn" onClick={() => { step(-1); }} aria-label={t('previousFrame')}>
            ‹ {t('previous')}
          </button>
          <button type="button" className="btn btn-primary player-play" onClick={() => { setPlaying((x) => !x); }}>
            {playing ? t('pause') : t('play')}
          </button>
          <button type="button" className="btn" onClick={() => { step(1); }} aria-label={t('nextFrame')}>
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
        <p className="player-help muted">{help}</p>
        </>
        )}
      </div>
    </div>
  );
}
