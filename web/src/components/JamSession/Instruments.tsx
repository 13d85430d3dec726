// The pads and the piano: buttons named by their note, played with the
// pointer (several fingers at once) or the keys shown on them.

import { useRef, type PointerEvent } from 'react';
import { PADS, isBlack, noteName, type Pad } from '../../music/notes';
import { padLabel, pianoLabel } from '../../input/keyboard';

/** Velocity from where a pad or key was struck, or the fixed one. */
export interface VelocitySource {
  (e: PointerEvent<HTMLElement>, kind: 'pad' | 'key'): number;
}

export function strikeVelocity(e: { clientX: number; clientY: number; currentTarget: Element }, kind: 'pad' | 'key'): number {
  const r = e.currentTarget.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return 100;
  if (kind === 'key') {
    // a key is louder struck near its front edge
    const f = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
    return Math.round(40 + f * 87);
  }
  // a pad is loudest in its centre
  const dx = (e.clientX - (r.left + r.width / 2)) / (r.width / 2);
  const dy = (e.clientY - (r.top + r.height / 2)) / (r.height / 2);
  const d = Math.min(1, Math.hypot(dx, dy) / Math.SQRT2);
  return Math.round(127 - d * 87);
}

interface PadsProps {
  velocity: VelocitySource;
  onHit: (pad: Pad, velocity: number) => void;
}

export function Pads({ velocity, onHit }: PadsProps) {
  const down = (pad: Pad) => (e: PointerEvent<HTMLButtonElement>) => {
    e.preventDefault();
    onHit(pad, velocity(e, 'pad'));
  };
  return (
    <div className="pads" role="group" aria-label="drum pads">
      {PADS.map((p) => (
        <button key={p} type="button" className="pad" data-note={p} aria-label={p} onPointerDown={down(p)}>
          <span className="name">{p.replace('_', ' ')}</span>
          <kbd>{padLabel(p)}</kbd>
        </button>
      ))}
    </div>
  );
}

interface PianoProps {
  base: number; // the lowest C shown
  octaves: number;
  velocity: VelocitySource;
  onPress: (midi: number, velocity: number) => void;
  onRelease: (midi: number) => void;
}

export function Piano({ base, octaves, velocity, onPress, onRelease }: PianoProps) {
  const held = useRef(new Map<number, number>()); // pointerId -> midi
  const notes = Array.from({ length: octaves * 12 + 1 }, (_, i) => base + i).filter((n) => n <= 127);
  const whites = notes.filter((n) => !isBlack(n));
  const ww = 100 / whites.length;
  const down = (midi: number) => (e: PointerEvent<HTMLButtonElement>) => {
    e.preventDefault();
    e.currentTarget.setPointerCapture?.(e.pointerId);
    const prev = held.current.get(e.pointerId);
    if (prev !== undefined) onRelease(prev);
    held.current.set(e.pointerId, midi);
    onPress(midi, velocity(e, 'key'));
  };
  const up = (e: PointerEvent<HTMLButtonElement>) => {
    const midi = held.current.get(e.pointerId);
    if (midi === undefined) return;
    held.current.delete(e.pointerId);
    onRelease(midi);
  };
  let w = 0;
  return (
    <div className="piano" role="group" aria-label="piano">
      {notes.map((n) => {
        const black = isBlack(n);
        const left = black ? w * ww - ww * 0.3 : (w++) * ww;
        const name = noteName(n);
        return (
          <button
            key={n}
            type="button"
            className={black ? 'key black' : 'key white'}
            data-note={name}
            aria-label={name}
            style={{ left: `${left}%`, width: `${black ? ww * 0.6 : ww}%` }}
            onPointerDown={down(n)}
            onPointerUp={up}
            onPointerCancel={up}
            onLostPointerCapture={up}
          >
            <kbd>{pianoLabel(n, base)}</kbd>
            {!black && n % 12 === 0 ? <span className="name">{name}</span> : null}
          </button>
        );
      })}
    </div>
  );
}
